import { z } from "zod";
import { Id } from "../common.ts";
import { CreateMcpServerBody, McpServer, UpdateMcpServerBody } from "../mcp-servers.ts";
import { defineRoute } from "./define.ts";
import { OrgParams } from "./params.ts";

const tags = ["agents"];
const BASE = "/api/orgs/:org/mcp-servers";
const One = OrgParams.extend({ serverId: Id });

/**
 * An org's MCP servers (ADR 0039): tools its agents may be given. Every member reads them (never their
 * headers or environment values); admins add, change and remove them.
 */
export const mcpServers = {
  list: defineRoute({
    method: "GET",
    path: BASE,
    summary: "The org's MCP servers, by name",
    tags,
    permission: "agents.read",
    params: OrgParams,
    response: z.array(McpServer),
  }),
  get: defineRoute({
    method: "GET",
    path: `${BASE}/:serverId`,
    summary: "One MCP server",
    tags,
    permission: "agents.read",
    params: One,
    response: McpServer,
    errors: ["mcp_server_not_found"],
  }),
  create: defineRoute({
    method: "POST",
    path: BASE,
    summary: "Add an MCP server (admin); an http URL must pass the egress address policy",
    tags,
    permission: "agents.manage",
    params: OrgParams,
    body: CreateMcpServerBody,
    status: 201,
    response: McpServer,
    errors: ["mcp_server_name_taken", "too_many_mcp_servers", "egress_refused"],
  }),
  update: defineRoute({
    method: "PUT",
    path: `${BASE}/:serverId`,
    summary: "Change an MCP server (admin); headers or env omitted keep the stored ones",
    tags,
    permission: "agents.manage",
    params: One,
    body: UpdateMcpServerBody,
    response: McpServer,
    errors: ["mcp_server_not_found", "mcp_server_name_taken", "egress_refused"],
  }),
  remove: defineRoute({
    method: "DELETE",
    path: `${BASE}/:serverId`,
    summary: "Remove an MCP server (admin); agents that name it no longer get its tools",
    tags,
    permission: "agents.manage",
    params: One,
    status: 204,
    response: z.null(),
    errors: ["mcp_server_not_found"],
  }),
};
