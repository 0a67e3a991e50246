import { randomUUID } from "node:crypto";
import {
  type Agent,
  type AgentSpec,
  AgentToolName,
  type AgentVersion,
  type AgentWithVersions,
  ApprovalMode,
  BUILTIN_AGENT_ID,
  type CreateAgentBody,
  type UpdateAgentBody,
} from "@kiln/protocol";
import { and, desc, eq, isNull } from "drizzle-orm";
import { recordAudit, userActor } from "../audit/index.ts";
import type { Database, Executor } from "../db/client.ts";
import { agents, agentVersions } from "../db/schema-tenant.ts";
import { ConflictError, NotFoundError } from "../errors/errors.ts";
import { assertMcpServersExist } from "../mcp-client/store.ts";
import { requirePermission } from "../orgs/roles.ts";
import type { OrgAccess } from "../orgs/service.ts";
import { looksLikeId } from "../orgs/slug.ts";
import { BUILTIN_AGENT } from "./builtin.ts";

type Row = typeof agents.$inferSelect;
type VersionRow = typeof agentVersions.$inferSelect;

/** One version of an agent, as a chat's turn runs it. */
export type AgentRun = AgentSpec & { id: string; version: number };

const notFound = () => new NotFoundError("agent_not_found", "no such agent in this org");

/**
 * An org's agent definitions (ADR 0035): the built-in Kiln agent (in code, the same everywhere) and the
 * org's own, stored per org and versioned. Chats ask `pick` for the version a chat will run and `version`
 * for the one a turn runs.
 */
export class AgentService {
  readonly #database: Database;

  constructor(options: { database: Database }) {
    this.#database = options.database;
  }

  async list(access: OrgAccess): Promise<Agent[]> {
    requirePermission(access.role, "agents.read");
    const rows = await this.#database.tenant(access.org.schemaName, (tx) =>
      tx
        .select()
        .from(agents)
        .innerJoin(
          agentVersions,
          and(eq(agentVersions.agentId, agents.id), eq(agentVersions.version, agents.currentVersion)),
        )
        .where(isNull(agents.archivedAt))
        .orderBy(agentVersions.name, agents.id),
    );
    return [BUILTIN_AGENT, ...rows.map((r) => toAgent(r.agents, r.agent_versions))];
  }

  async get(access: OrgAccess, agentId: string): Promise<AgentWithVersions> {
    requirePermission(access.role, "agents.read");
    if (agentId === BUILTIN_AGENT_ID) {
      const { builtIn: _b, archived: _a, id: _i, updatedAt: _u, ...version } = BUILTIN_AGENT;
      return { ...BUILTIN_AGENT, versions: [version] };
    }
    return this.#database.tenant(access.org.schemaName, async (tx) => {
      const row = await findAgent(tx, agentId);
      const versions = await tx
        .select()
        .from(agentVersions)
        .where(eq(agentVersions.agentId, row.id))
        .orderBy(desc(agentVersions.version));
      const current = versions.find((v) => v.version === row.currentVersion);
      if (!current) throw notFound();
      return { ...toAgent(row, current), versions: versions.map(toVersion) };
    });
  }

  async create(access: OrgAccess, body: CreateAgentBody): Promise<Agent> {
    requirePermission(access.role, "agents.manage");
    const spec = specOf(body);
    const id = randomUUID();
    return this.#database.tenant(access.org.schemaName, async (tx) => {
      await assertMcpServersExist(tx, spec.mcpServers);
      const [row] = await tx
        .insert(agents)
        .values({ id, currentVersion: 1, createdBy: access.userId })
        .returning();
      const version = await insertVersion(tx, id, 1, spec, access.userId);
      await audit(tx, access, "agent.created", id, spec.name, 1);
      return toAgent(row!, version);
    });
  }

  /** Stores the definition sent as the agent's next version; older versions stay as they were. */
  async update(access: OrgAccess, agentId: string, body: UpdateAgentBody): Promise<Agent> {
    requirePermission(access.role, "agents.manage");
    if (agentId === BUILTIN_AGENT_ID) throw builtIn();
    const spec = specOf(body);
    return this.#database.tenant(access.org.schemaName, async (tx) => {
      const current = await findAgent(tx, agentId, { forUpdate: true });
      if (current.archivedAt) throw notFound();
      await assertMcpServersExist(tx, spec.mcpServers);
      const next = current.currentVersion + 1;
      const version = await insertVersion(tx, current.id, next, spec, access.userId);
      const [row] = await tx
        .update(agents)
        .set({ currentVersion: next, updatedAt: new Date() })
        .where(eq(agents.id, current.id))
        .returning();
      await audit(tx, access, "agent.updated", current.id, spec.name, next);
      return toAgent(row!, version);
    });
  }

  /** Archives: no chat can pick it any more; its versions stay readable and chats that use it keep running it. */
  async archive(access: OrgAccess, agentId: string): Promise<void> {
    requirePermission(access.role, "agents.manage");
    if (agentId === BUILTIN_AGENT_ID) throw builtIn();
    await this.#database.tenant(access.org.schemaName, async (tx) => {
      const row = await findAgent(tx, agentId);
      if (row.archivedAt) throw notFound();
      await tx
        .update(agents)
        .set({ archivedAt: new Date(), updatedAt: new Date() })
        .where(eq(agents.id, row.id));
      await audit(tx, access, "agent.archived", row.id, null, row.currentVersion);
    });
  }

  /**
   * The version a chat picking this agent will run: the built-in's, or an org agent's current one (a missing,
   * foreign or archived agent is a 404). Runs in the caller's transaction.
   */
  pick(tx: Executor, agentId: string | undefined): Promise<AgentRun> {
    return pickAgent(tx, agentId);
  }

  /** One version of an agent, archived or not, for a turn to run (a chat from before agents runs the built-in). */
  version(tx: Executor, agentId: string | null, version: number | null): Promise<AgentRun> {
    return agentVersion(tx, agentId, version);
  }
}

/**
 * The version work picking this agent will run (a chat, a board job): the built-in's, or an org agent's
 * current one; a missing, foreign or archived agent is a 404 `agent_not_found`. Runs in the caller's
 * transaction, in the org's schema.
 */
export async function pickAgent(tx: Executor, agentId: string | undefined | null): Promise<AgentRun> {
  if (agentId === undefined || agentId === null || agentId === BUILTIN_AGENT_ID) return builtinRun();
  const row = await findAgent(tx, agentId);
  if (row.archivedAt) throw notFound();
  return agentVersion(tx, row.id, row.currentVersion);
}

async function agentVersion(tx: Executor, agentId: string | null, version: number | null): Promise<AgentRun> {
  if (agentId === null || agentId === BUILTIN_AGENT_ID) return builtinRun();
  const [row] = await tx
    .select()
    .from(agentVersions)
    .where(and(eq(agentVersions.agentId, agentId), eq(agentVersions.version, version ?? 0)))
    .limit(1);
  if (!row) throw notFound();
  return { id: row.agentId, version: row.version, ...specFromRow(row) };
}

function builtinRun(): AgentRun {
  const { id, version, name, description, icon, systemPrompt, tools, defaultModel, defaultMode, stepLimit } =
    BUILTIN_AGENT;
  return {
    id,
    version,
    name,
    description,
    icon,
    systemPrompt,
    tools,
    mcpServers: [],
    defaultModel,
    defaultMode,
    stepLimit,
  };
}

const builtIn = () =>
  new ConflictError("agent_built_in", "the built-in Kiln agent cannot be changed; create a copy instead");

function specOf(body: CreateAgentBody): AgentSpec {
  return {
    name: body.name,
    description: body.description ?? "",
    icon: body.icon ?? "🤖",
    systemPrompt: body.systemPrompt,
    tools: body.tools,
    mcpServers: body.mcpServers ?? [],
    defaultModel: body.defaultModel ?? null,
    defaultMode: body.defaultMode ?? null,
    stepLimit: body.stepLimit ?? null,
  };
}

async function findAgent(tx: Executor, id: string, options: { forUpdate?: boolean } = {}): Promise<Row> {
  if (!looksLikeId(id)) throw notFound();
  const query = tx.select().from(agents).where(eq(agents.id, id)).limit(1);
  const [row] = options.forUpdate ? await query.for("update") : await query;
  if (!row) throw notFound();
  return row;
}

async function insertVersion(
  tx: Executor,
  agentId: string,
  version: number,
  spec: AgentSpec,
  userId: string,
): Promise<VersionRow> {
  const [row] = await tx
    .insert(agentVersions)
    .values({ agentId, version, ...spec, createdBy: userId })
    .returning();
  return row!;
}

async function audit(
  tx: Executor,
  access: OrgAccess,
  action: "agent.created" | "agent.updated" | "agent.archived",
  id: string,
  name: string | null,
  version: number,
): Promise<void> {
  await recordAudit(tx, {
    orgId: access.org.id,
    action,
    actor: userActor(access),
    target: { type: "agent", id, ...(name ? { label: name } : {}) },
    data: { version },
  });
}

function specFromRow(v: VersionRow): AgentSpec {
  return {
    name: v.name,
    description: v.description,
    icon: v.icon,
    systemPrompt: v.systemPrompt,
    // Stored through the schema; a name a later Kiln dropped is simply not offered.
    tools: v.tools.filter((t): t is AgentSpec["tools"][number] => AgentToolName.safeParse(t).success),
    mcpServers: v.mcpServers,
    defaultModel: v.defaultModel,
    defaultMode: v.defaultMode === null ? null : ApprovalMode.parse(v.defaultMode),
    stepLimit: v.stepLimit,
  };
}

function toVersion(v: VersionRow): AgentVersion {
  return {
    ...specFromRow(v),
    version: v.version,
    createdBy: v.createdBy,
    createdAt: v.createdAt.toISOString(),
  };
}

function toAgent(row: Row, v: VersionRow): Agent {
  return {
    ...toVersion(v),
    id: row.id,
    builtIn: false,
    archived: row.archivedAt !== null,
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}
