import { z } from "zod";

/** The most JSON-RPC messages one POST to /mcp may carry (a batch). */
export const MAX_MCP_BATCH = 50;

/**
 * One JSON-RPC 2.0 message as the MCP endpoint (Streamable HTTP) accepts it. Only the envelope is checked
 * here, so garbage is a 400 in Kiln's error envelope; the method's params are the MCP server's to check.
 */
export const McpMessage = z
  .looseObject({
    jsonrpc: z.literal("2.0"),
    id: z.union([z.string().max(200), z.number().int()]).optional(),
    method: z.string().max(200).optional(),
  })
  .meta({ id: "McpMessage" });
export type McpMessage = z.infer<typeof McpMessage>;

export const McpRequestBody = z
  .union([McpMessage, z.array(McpMessage).min(1).max(MAX_MCP_BATCH)])
  .describe("A JSON-RPC 2.0 message or batch of the Model Context Protocol");
