import { randomUUID } from "node:crypto";
import type { AddressPolicy } from "@kiln/agent";
import {
  type CreateMcpServerBody,
  MCP_SERVERS_MAX,
  type McpServer,
  type UpdateMcpServerBody,
} from "@kiln/protocol";
import { eq, sql } from "drizzle-orm";
import { recordAudit, userActor } from "../audit/index.ts";
import type { Database, Executor } from "../db/client.ts";
import { pgErrorCode, UNIQUE_VIOLATION } from "../db/errors.ts";
import { mcpServers } from "../db/schema-tenant.ts";
import { BadRequestError, ConflictError } from "../errors/errors.ts";
import { assertEgressAllowed } from "../llm/egress.ts";
import { requirePermission } from "../orgs/roles.ts";
import type { OrgAccess } from "../orgs/service.ts";
import { looksLikeId } from "../orgs/slug.ts";
import type { SecretBox } from "../secrets/secret-box.ts";
import { type McpServerRow, mcpServerNotFound, secretsContext, toMcpServer } from "./store.ts";

const nameTaken = () =>
  new ConflictError("mcp_server_name_taken", "this org already has an MCP server by that name");

/**
 * An org's MCP servers (ADR 0039): admins add them, every member reads them (never their headers or
 * environment values, which are sealed at rest). An http server's URL is held to the egress address policy
 * when it is saved and again at every connection.
 */
export class McpServerService {
  readonly #database: Database;
  readonly #secrets: SecretBox;
  readonly #egress: AddressPolicy;

  constructor(deps: { database: Database; secrets: SecretBox; egress: AddressPolicy }) {
    this.#database = deps.database;
    this.#secrets = deps.secrets;
    this.#egress = deps.egress;
  }

  async list(access: OrgAccess): Promise<McpServer[]> {
    requirePermission(access.role, "agents.read");
    const rows = await this.#database.tenant(access.org.schemaName, (tx) =>
      tx.select().from(mcpServers).orderBy(mcpServers.name),
    );
    return rows.map(toMcpServer);
  }

  async get(access: OrgAccess, serverId: string): Promise<McpServer> {
    requirePermission(access.role, "agents.read");
    return toMcpServer(await this.#database.tenant(access.org.schemaName, (tx) => findServer(tx, serverId)));
  }

  async create(access: OrgAccess, body: CreateMcpServerBody): Promise<McpServer> {
    requirePermission(access.role, "agents.manage");
    await this.#checkUrl(body);
    const id = randomUUID();
    return this.#unique(() =>
      this.#database.tenant(access.org.schemaName, async (tx) => {
        const [{ count } = { count: 0 }] = await tx
          .select({ count: sql<number>`count(*)::int` })
          .from(mcpServers);
        if (count >= MCP_SERVERS_MAX) {
          throw new ConflictError(
            "too_many_mcp_servers",
            `an org can have at most ${MCP_SERVERS_MAX} MCP servers`,
          );
        }
        const [row] = await tx
          .insert(mcpServers)
          .values({ id, createdBy: access.userId, ...this.#columns(access, id, body, null) })
          .returning();
        await audit(tx, access, "mcp_server.created", row!);
        return toMcpServer(row!);
      }),
    );
  }

  async update(access: OrgAccess, serverId: string, body: UpdateMcpServerBody): Promise<McpServer> {
    requirePermission(access.role, "agents.manage");
    await this.#checkUrl(body);
    return this.#unique(() =>
      this.#database.tenant(access.org.schemaName, async (tx) => {
        const before = await findServer(tx, serverId, { forUpdate: true });
        const [row] = await tx
          .update(mcpServers)
          .set({ ...this.#columns(access, before.id, body, before), updatedAt: new Date() })
          .where(eq(mcpServers.id, before.id))
          .returning();
        await audit(tx, access, "mcp_server.updated", row!);
        return toMcpServer(row!);
      }),
    );
  }

  async remove(access: OrgAccess, serverId: string): Promise<void> {
    requirePermission(access.role, "agents.manage");
    await this.#database.tenant(access.org.schemaName, async (tx) => {
      const row = await findServer(tx, serverId, { forUpdate: true });
      await tx.delete(mcpServers).where(eq(mcpServers.id, row.id));
      await audit(tx, access, "mcp_server.deleted", row);
    });
  }

  /** The headers (http) or environment (stdio) a session sends; decrypted only in the org it was sealed for. */
  secretsOf(orgId: string, row: McpServerRow): Record<string, string> {
    if (!row.secretsSealed) return {};
    return JSON.parse(this.#secrets.decrypt(row.secretsSealed, secretsContext(orgId, row.id)));
  }

  /** http servers: https, or plain http to an address the operator exempted; no userinfo; the policy's yes. */
  async #checkUrl(body: CreateMcpServerBody): Promise<void> {
    if (body.transport !== "http") return;
    const url = new URL(body.url);
    if (url.protocol !== "https:" && !(url.protocol === "http:" && this.#egress.exempts(url))) {
      throw new BadRequestError("egress_refused", "an MCP server URL must be https://");
    }
    if (url.username || url.password) {
      throw new BadRequestError(
        "egress_refused",
        "an MCP server URL cannot carry a user or password; use headers",
      );
    }
    await assertEgressAllowed(this.#egress, url.href);
  }

  #columns(access: OrgAccess, id: string, body: CreateMcpServerBody, before: McpServerRow | null) {
    const secrets = body.transport === "http" ? body.headers : body.env;
    // Omitted on an update of the same kind: the stored ones stay (they are never sent back to be resent).
    const keep = secrets === undefined && before !== null && before.transport === body.transport;
    const sealed = keep
      ? { secretNames: before.secretNames, secretsSealed: before.secretsSealed }
      : {
          secretNames: Object.keys(secrets ?? {}).sort(),
          secretsSealed:
            secrets && Object.keys(secrets).length > 0
              ? this.#secrets.encrypt(JSON.stringify(secrets), secretsContext(access.org.id, id))
              : null,
        };
    return {
      name: body.name,
      transport: body.transport,
      url: body.transport === "http" ? new URL(body.url).href : null,
      command: body.transport === "stdio" ? body.command : null,
      ...sealed,
    };
  }

  async #unique<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (pgErrorCode(err) === UNIQUE_VIOLATION) throw nameTaken();
      throw err;
    }
  }
}

async function findServer(
  tx: Executor,
  id: string,
  options: { forUpdate?: boolean } = {},
): Promise<McpServerRow> {
  if (!looksLikeId(id)) throw mcpServerNotFound();
  const query = tx.select().from(mcpServers).where(eq(mcpServers.id, id)).limit(1);
  const [row] = options.forUpdate ? await query.for("update") : await query;
  if (!row) throw mcpServerNotFound();
  return row;
}

/** What a record says of a server: its name and where it runs; never its headers or environment. */
async function audit(
  tx: Executor,
  access: OrgAccess,
  action: "mcp_server.created" | "mcp_server.updated" | "mcp_server.deleted",
  row: McpServerRow,
): Promise<void> {
  await recordAudit(tx, {
    orgId: access.org.id,
    action,
    actor: userActor(access),
    target: { type: "mcp_server", id: row.id, label: row.name },
    data: { transport: row.transport, ...(row.url ? { url: row.url } : {}) },
  });
}
