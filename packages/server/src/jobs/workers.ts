import { randomUUID } from "node:crypto";
import type { Worker } from "@kiln/protocol";
import { and, desc, eq, gt, isNull, lt, lte, or, sql } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { workers } from "../db/schema-shared.ts";
import type { WorkerCredential } from "./worker-tokens.ts";

/** Rows of workers that left this long ago are forgotten (their jobs keep a null worker id). */
const FORGET_AFTER_MS = 24 * 60 * 60_000;

/**
 * Workers as the database knows them. A worker's id outlives its connection: presenting it again (with a
 * token of the same scope) resumes the worker, leases included, on whichever server it reaches.
 */
export class WorkerRegistry {
  readonly #database: Database;

  constructor(database: Database) {
    this.#database = database;
  }

  async register(
    credential: WorkerCredential,
    input: { name: string; concurrency: number; version: string; workerId?: string | undefined },
  ): Promise<{ workerId: string; resumed: boolean; since: Date }> {
    const fields = {
      name: input.name,
      concurrency: input.concurrency,
      version: input.version,
      connectedAt: sql`now()`,
      lastSeenAt: sql`now()`,
      disconnectedAt: null,
    };
    if (input.workerId) {
      // Only a worker with a token of the same scope may take an id over; anyone else starts afresh.
      const sameScope = and(
        eq(workers.id, input.workerId.toLowerCase()),
        credential.orgId === null ? isNull(workers.orgId) : eq(workers.orgId, credential.orgId),
        credential.tokenId === null ? isNull(workers.tokenId) : eq(workers.tokenId, credential.tokenId),
      );
      const [resumed] = await this.#database.db
        .update(workers)
        .set(fields)
        .where(sameScope)
        .returning({ id: workers.id, since: workers.connectedAt });
      if (resumed) return { workerId: resumed.id, resumed: true, since: resumed.since };
    }
    const id = randomUUID();
    const [row] = await this.#database.db
      .insert(workers)
      .values({ id, orgId: credential.orgId, tokenId: credential.tokenId, ...fields })
      .returning({ since: workers.connectedAt });
    return { workerId: id, resumed: false, since: row!.since };
  }

  async touch(workerId: string): Promise<void> {
    await this.#database.db.update(workers).set({ lastSeenAt: sql`now()` }).where(eq(workers.id, workerId));
  }

  /** Marks a connection gone, unless the worker has registered again since (here or on another server). */
  async disconnect(workerId: string, since: Date): Promise<void> {
    await this.#database.db
      .update(workers)
      .set({ disconnectedAt: sql`now()` })
      .where(and(eq(workers.id, workerId), lte(workers.connectedAt, since)));
  }

  /** Connected workers that take the org's jobs: its own, and the instance's. */
  async list(orgId: string, staleAfterMs: number): Promise<Worker[]> {
    // Only this org's jobs: the instance's worker serves other orgs too, and their work is not ours to see.
    // Spelled out: drizzle leaves columns unqualified here, and "id" would mean the subquery's own.
    const active = sql<number>`(SELECT count(*)::int FROM jobs j WHERE j.worker_id = workers.id
      AND j.org_id = ${orgId}::uuid AND j.state IN ('dispatched', 'running'))`;
    const rows = await this.#database.db
      .select({ worker: workers, active })
      .from(workers)
      .where(
        and(
          or(eq(workers.orgId, orgId), isNull(workers.orgId)),
          isNull(workers.disconnectedAt),
          gt(workers.lastSeenAt, sql`now() - make_interval(secs => ${staleAfterMs / 1000})`),
        ),
      )
      .orderBy(desc(workers.connectedAt))
      .limit(200);
    return rows.map(({ worker, active }) => ({
      id: worker.id,
      name: worker.name,
      version: worker.version,
      concurrency: worker.concurrency,
      scope: worker.orgId ? "org" : "instance",
      activeJobs: active,
      connectedAt: worker.connectedAt.toISOString(),
      lastSeenAt: worker.lastSeenAt.toISOString(),
    }));
  }

  async forgetOld(): Promise<void> {
    await this.#database.db.delete(workers).where(
      or(
        lt(workers.disconnectedAt, sql`now() - make_interval(secs => ${FORGET_AFTER_MS / 1000})`),
        // A server that died took its connections' disconnects with it.
        lt(workers.lastSeenAt, sql`now() - make_interval(secs => ${FORGET_AFTER_MS / 1000})`),
      ),
    );
  }
}
