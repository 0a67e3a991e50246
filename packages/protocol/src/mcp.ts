import { z } from "zod";

/** What an MCP client may ask of (or tell) a server: the requests and notifications of the protocol. */
export const MCP_CLIENT_METHODS = [
  "initialize",
  "ping",
  "tools/list",
  "tools/call",
  "resources/list",
  "resources/templates/list",
  "resources/read",
  "resources/subscribe",
  "resources/unsubscribe",
  "prompts/list",
  "prompts/get",
  "completion/complete",
  "logging/setLevel",
  "tasks/get",
  "tasks/result",
  "tasks/list",
  "tasks/cancel",
  "notifications/initialized",
  "notifications/cancelled",
  "notifications/progress",
  "notifications/roots/list_changed",
  "notifications/tasks/status",
  "notifications/elicitation/complete",
] as const;

/**
 * One JSON-RPC 2.0 message as the MCP endpoint (Streamable HTTP) accepts it: one per POST (MCP 2025-06-18
 * dropped batches), a client's request or notification. Only the envelope is checked here, so garbage is a
 * 400 in Kiln's error envelope; the params are the MCP server's (and each tool's schema's) to check.
 */
export const McpMessage = z
  .strictObject({
    jsonrpc: z.literal("2.0"),
    id: z
      .union([z.number().int(), z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/)])
      .optional()
      .describe("A request's id; absent for a notification"),
    method: z.enum(MCP_CLIENT_METHODS),
    params: z.looseObject({}).optional(),
  })
  .meta({ id: "McpMessage" });
export type McpMessage = z.infer<typeof McpMessage>;

/** What the endpoint answers: a JSON-RPC result or error (a notification is answered 202 without a body). */
export const McpAnswer = z
  .looseObject({
    jsonrpc: z.literal("2.0"),
    id: z.union([z.number(), z.string()]).nullable(),
    result: z.looseObject({}).optional(),
    error: z.looseObject({ code: z.number(), message: z.string() }).optional(),
  })
  .meta({ id: "McpAnswer" });
