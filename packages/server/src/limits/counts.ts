import { count, eq, sql } from "drizzle-orm";
import type { LimitsConfig } from "../config.ts";
import type { Executor } from "../db/client.ts";
import { agentRuns, orgs } from "../db/schema-shared.ts";
import { projects } from "../db/schema-tenant.ts";
import { LimitExceededError } from "./errors.ts";

/**
 * Limits counted in the database, so they hold across replicas. Each check runs in the transaction that
 * then inserts the row, after a transaction-scoped advisory lock on what it counts: two requests racing
 * for the last place are serialized, and the second counts the first's row. Locks are always taken org
 * before user, so two checks never wait on each other in a cycle.
 */
async function lock(tx: Executor, what: string, id: string): Promise<void> {
  await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtextextended(${`kiln-limit:${what}:${id}`}, 0))`);
}

/** In the org's tenant transaction, before its project row is inserted. */
export async function assertProjectRoom(tx: Executor, orgId: string, limits: LimitsConfig): Promise<void> {
  const max = limits.projectsPerOrg;
  if (max <= 0) return;
  await lock(tx, "projects", orgId);
  const [row] = await tx.select({ n: count() }).from(projects);
  const current = row?.n ?? 0;
  if (current >= max) {
    throw new LimitExceededError(
      "projects_per_org",
      max,
      `this org already has ${current} projects (at most ${max}); delete one first`,
      { current },
    );
  }
}

/** Before a user's new org is inserted (not the personal org made at sign-up: that is the first). */
export async function assertOrgRoom(tx: Executor, userId: string, limits: LimitsConfig): Promise<void> {
  const max = limits.orgsPerUser;
  if (max <= 0) return;
  await lock(tx, "orgs", userId);
  const [row] = await tx.select({ n: count() }).from(orgs).where(eq(orgs.createdBy, userId));
  const current = row?.n ?? 0;
  if (current >= max) {
    throw new LimitExceededError(
      "orgs_per_user",
      max,
      `you have already created ${current} orgs (at most ${max}); delete one first`,
      { current },
    );
  }
}

/** In the transaction that registers a new turn in `agent_runs`: the turns running on every replica. */
export async function assertRunRoom(
  tx: Executor,
  run: { orgId: string; userId: string },
  limits: LimitsConfig,
): Promise<void> {
  const perOrg = limits.chatRunsPerOrg;
  const perUser = limits.chatRunsPerUser;
  if (perOrg > 0) {
    await lock(tx, "runs-org", run.orgId);
    const [row] = await tx.select({ n: count() }).from(agentRuns).where(eq(agentRuns.orgId, run.orgId));
    const current = row?.n ?? 0;
    if (current >= perOrg) {
      throw new LimitExceededError(
        "chat_runs_per_org",
        perOrg,
        `this org already has ${current} agent turns running (at most ${perOrg}); wait for one to finish or cancel it`,
        { current },
      );
    }
  }
  if (perUser > 0) {
    await lock(tx, "runs-user", run.userId);
    const [row] = await tx.select({ n: count() }).from(agentRuns).where(eq(agentRuns.userId, run.userId));
    const current = row?.n ?? 0;
    if (current >= perUser) {
      throw new LimitExceededError(
        "chat_runs_per_user",
        perUser,
        `you already have ${current} agent turns running (at most ${perUser}); wait for one to finish or cancel it`,
        { current },
      );
    }
  }
}
