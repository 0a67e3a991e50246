import type { McpServer } from "@kiln/protocol";
import { inArray } from "drizzle-orm";
import type { Executor } from "../db/client.ts";
import { mcpServers } from "../db/schema-tenant.ts";
import { NotFoundError } from "../errors/errors.ts";

export type McpServerRow = typeof mcpServers.$inferSelect;

export const mcpServerNotFound = () =>
  new NotFoundError("mcp_server_not_found", "no such MCP server in this org");

/** What the sealed headers (http) or environment (stdio) of a server are bound to: this org, this server. */
export const secretsContext = (orgId: string, serverId: string) => `org:${orgId}:mcp-server:${serverId}`;

export function toMcpServer(row: McpServerRow): McpServer {
  return {
    id: row.id,
    name: row.name,
    transport: row.transport === "stdio" ? "stdio" : "http",
    url: row.url,
    command: row.command,
    secretNames: row.secretNames,
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** The org's servers among `ids` (in the org's schema: another org's id is simply not there). */
export function findMcpServers(tx: Executor, ids: readonly string[]): Promise<McpServerRow[]> {
  if (ids.length === 0) return Promise.resolve([]);
  return tx
    .select()
    .from(mcpServers)
    .where(inArray(mcpServers.id, [...ids]));
}

/** An agent may name only its own org's servers: any other id is a 404, whoever's it is. */
export async function assertMcpServersExist(tx: Executor, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  const found = await findMcpServers(tx, ids);
  if (found.length !== new Set(ids).size) throw mcpServerNotFound();
}
