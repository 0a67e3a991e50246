import { z } from "zod";
import { McpAnswer, McpMessage } from "../mcp.ts";
import { defineRoute } from "./define.ts";

const tags = ["mcp"];

/**
 * Kiln's Model Context Protocol endpoint (ADR 0038) for external agents (Claude Code, Cursor…): stateless
 * Streamable HTTP, a personal API token as Bearer (cookies are ignored). Its tools act through the same
 * services and permissions as the routes they name; a refusal is a tool error carrying the Kiln code.
 */
export const mcp = {
  post: defineRoute({
    method: "POST",
    path: "/mcp",
    summary:
      "MCP transport endpoint (Streamable HTTP, stateless): one JSON-RPC message; Accept must name application/json and text/event-stream",
    tags,
    // Not under /api, where `required` is the default.
    auth: "required",
    body: McpMessage,
    response: McpAnswer,
    errors: ["not_acceptable", "payload_too_large"],
  }),
  stream: defineRoute({
    method: "GET",
    path: "/mcp",
    summary: "MCP server-to-client stream: not offered by this stateless endpoint (405)",
    tags,
    // Not under /api, where `required` is the default.
    auth: "required",
    response: z.null(),
    errors: ["method_not_allowed"],
  }),
  end: defineRoute({
    method: "DELETE",
    path: "/mcp",
    summary: "MCP session end: stateless, there is no session to end (405)",
    tags,
    // Not under /api, where `required` is the default.
    auth: "required",
    response: z.null(),
    errors: ["method_not_allowed"],
  }),
};
