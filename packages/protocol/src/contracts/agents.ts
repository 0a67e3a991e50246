import { z } from "zod";
import { Agent, AgentWithVersions, CreateAgentBody, UpdateAgentBody } from "../agents.ts";
import { Id } from "../common.ts";
import { defineRoute } from "./define.ts";
import { OrgParams } from "./params.ts";

const tags = ["agents"];
const BASE = "/api/orgs/:org/agents";
const One = OrgParams.extend({ agentId: Id });

/**
 * An org's agent definitions (ADR 0035): the built-in Kiln agent first, then the org's own. Every member
 * reads them; admins create, edit (a new version each time) and archive them.
 */
export const agents = {
  list: defineRoute({
    method: "GET",
    path: BASE,
    summary: "The org's agents: the built-in Kiln agent, then the org's own (not archived ones)",
    tags,
    permission: "agents.read",
    params: OrgParams,
    response: z.array(Agent),
  }),
  get: defineRoute({
    method: "GET",
    path: `${BASE}/:agentId`,
    summary: "An agent with all its versions (archived ones too: chats that ran them show them)",
    tags,
    permission: "agents.read",
    params: One,
    response: AgentWithVersions,
    errors: ["agent_not_found"],
  }),
  create: defineRoute({
    method: "POST",
    path: BASE,
    summary: "Create an agent (admin); its first version",
    tags,
    permission: "agents.manage",
    params: OrgParams,
    body: CreateAgentBody,
    status: 201,
    response: Agent,
    errors: ["mcp_server_not_found"],
  }),
  update: defineRoute({
    method: "PUT",
    path: `${BASE}/:agentId`,
    summary: "Edit an agent (admin): the whole definition, stored as a new version",
    tags,
    permission: "agents.manage",
    params: One,
    body: UpdateAgentBody,
    response: Agent,
    errors: ["agent_not_found", "agent_built_in", "mcp_server_not_found"],
  }),
  archive: defineRoute({
    method: "DELETE",
    path: `${BASE}/:agentId`,
    summary: "Archive an agent (admin): no new chat picks it; its versions stay readable",
    tags,
    permission: "agents.manage",
    params: One,
    status: 204,
    response: z.null(),
    errors: ["agent_not_found", "agent_built_in"],
  }),
};
