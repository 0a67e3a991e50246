import { randomUUID } from "node:crypto";
import {
  ACTIVE_JOB_STATES,
  BUILTIN_AGENT_ID,
  type CancelReason,
  JOB_TOKEN_PREFIX,
  type Job,
  type JobAgent,
  type JobFailureCode,
  type JobKind,
  type JobResult,
  type JobState,
  type WorkerJobEvent,
} from "@kiln/protocol";
import { and, asc, eq, inArray, isNull, lte, or, sql } from "drizzle-orm";
import { recordAudit } from "../audit/record.ts";
import { hashToken, opaqueToken } from "../auth/tokens.ts";
import type { Database, Executor } from "../db/client.ts";
import { jobs } from "../db/schema-shared.ts";
import { BadRequestError, ConflictError, NotFoundError } from "../errors/errors.ts";
import { looksLikeId } from "../orgs/slug.ts";
import { retryDecision } from "./retry.ts";
import { appendEvents, type JobRow, jobAgentOf, toJob } from "./store.ts";
import { JobToolAudit } from "./tool-audit.ts";
import { type AttemptEnd, endAttempt, later, type Transition, update } from "./transitions.ts";

export interface QueueOptions {
  leaseMs: number;
  maxAttempts: number;
  retryBaseMs: number;
  /** An attempt running longer than this ends with `timeout`. */
  timeoutMs: number;
  /** A worker that has not acknowledged a cancel this long after it was asked is not waited for. */
  cancelGraceMs: number;
}

/** Who is asking: a worker, and the org its token is for (null: the instance's own worker, any org). */
export interface WorkerScope {
  workerId: string;
  orgId: string | null;
  /** Speaks worker protocol 2: runs the agent a job carries. Others only get jobs of the built-in agent. */
  runsAgents?: boolean;
}

export interface Claimed extends Transition {
  attempt: number;
  jobToken: string;
  /** The agent version the job runs, for the worker; absent: the built-in (a job from before agents). */
  agent?: JobAgent;
}

/** A worker that must stop an attempt: told over its socket, wherever that is connected. */
export interface CancelPush {
  workerId: string;
  jobId: string;
  attempt: number;
  reason: CancelReason;
}

export interface Outcome extends Transition {
  /** False when the message repeated one already applied (nothing changed). */
  changed: boolean;
}

const ACTIVE = ACTIVE_JOB_STATES as JobState[];
const isActive = (state: string) => ACTIVE.includes(state as JobState);

const staleAttempt = () =>
  new ConflictError(
    "stale_attempt",
    "this attempt no longer holds the job (its lease ended or it was retried)",
  );
const notActive = (row: JobRow) =>
  new ConflictError("job_not_active", `the job is ${row.state}`, { state: row.state });
export const jobNotFound = () => new NotFoundError("job_not_found", "job not found");

/**
 * The job state machine on the database: queued → dispatched → running → completed | failed | cancelled.
 * Every change locks the job's row, checks who asks and for which attempt, and logs a state event in the
 * same transaction. Nothing here knows about sockets; the service publishes what each call returns.
 */
export class JobQueue {
  readonly #database: Database;
  readonly options: QueueOptions;
  readonly #toolAudit = new JobToolAudit();

  constructor(database: Database, options: QueueOptions) {
    this.#database = database;
    this.options = options;
  }

  async enqueue(input: {
    orgId: string;
    projectId: string;
    taskId: string | null;
    kind: JobKind;
    instructions: string;
    requestedBy: string | null;
    /** The agent version the job runs, recorded with it; absent: the built-in, whichever version the worker has. */
    agent?: JobAgent;
  }): Promise<Transition> {
    const { agent, ...fields } = input;
    return this.#database.transaction(async (tx) => {
      const [row] = await tx
        .insert(jobs)
        .values({
          id: randomUUID(),
          ...fields,
          ...(agent ? { agentId: agent.id, agentVersion: agent.version, agentSpec: agent } : {}),
          maxAttempts: this.options.maxAttempts,
        })
        .returning();
      const events = await appendEvents(tx, row!.id, 0, [
        { type: "state", state: "queued", workerId: null, failure: null },
      ]);
      return { job: toJob(row!), events };
    });
  }

  /**
   * Hands up to `max` queued jobs to a worker. SKIP LOCKED lets any number of servers claim at once:
   * a row another transaction is claiming is passed over, never handed out twice.
   */
  async claim(scope: WorkerScope, max: number): Promise<Claimed[]> {
    if (max <= 0) return [];
    return this.#database.transaction(async (tx) => {
      const candidates = await tx
        .select({ id: jobs.id })
        .from(jobs)
        .where(
          and(
            eq(jobs.state, "queued"),
            lte(jobs.runAfter, sql`now()`),
            scope.orgId ? eq(jobs.orgId, scope.orgId) : undefined,
            scope.runsAgents ? undefined : or(isNull(jobs.agentId), eq(jobs.agentId, BUILTIN_AGENT_ID)),
          ),
        )
        .orderBy(asc(jobs.createdAt))
        .limit(max)
        .for("update", { skipLocked: true });
      const claimed: Claimed[] = [];
      for (const { id } of candidates) {
        const jobToken = opaqueToken(JOB_TOKEN_PREFIX);
        const [row] = await tx
          .update(jobs)
          .set({
            state: "dispatched",
            attempts: sql`${jobs.attempts} + 1`,
            workerId: scope.workerId,
            leaseExpiresAt: later(this.options.leaseMs),
            tokenHash: hashToken(jobToken),
            startedAt: sql`now()`,
            updatedAt: sql`now()`,
          })
          .where(eq(jobs.id, id))
          .returning();
        const events = await appendEvents(tx, id, row!.attempts, [
          { type: "state", state: "dispatched", workerId: scope.workerId, failure: null },
        ]);
        const agent = jobAgentOf(row!);
        claimed.push({
          job: toJob(row!),
          events,
          attempt: row!.attempts,
          jobToken,
          ...(agent ? { agent } : {}),
        });
      }
      return claimed;
    });
  }

  async activeCount(workerId: string): Promise<number> {
    const [row] = await this.#database.db
      .select({ n: sql<number>`count(*)::int` })
      .from(jobs)
      .where(and(eq(jobs.workerId, workerId), inArray(jobs.state, ACTIVE)));
    return row?.n ?? 0;
  }

  /** The jobs a worker holds, for a worker that reconnects. */
  async held(workerId: string): Promise<Job[]> {
    const rows = await this.#database.db
      .select()
      .from(jobs)
      .where(and(eq(jobs.workerId, workerId), inArray(jobs.state, ACTIVE)))
      .orderBy(asc(jobs.createdAt));
    return rows.map(toJob);
  }

  /**
   * Ends an attempt its worker no longer runs: a worker that reconnects without a job it held (it
   * restarted, or never received it) gives it back now rather than when the lease runs out.
   */
  async release(scope: WorkerScope, jobId: string): Promise<Transition | null> {
    return this.#database.transaction(async (tx) => {
      const row = await lockInScope(tx, scope, jobId);
      if (!isActive(row.state) || row.workerId !== scope.workerId) return null;
      return endAttempt(
        tx,
        row,
        this.#afterFailure(row, "worker_lost", "the worker came back without this job"),
      );
    });
  }

  /**
   * Renews the leases of the listed jobs this worker holds; the first heartbeat naming a dispatched job
   * marks it running. Jobs it names but no longer holds (or that should stop) come back as cancels.
   */
  async heartbeat(
    scope: WorkerScope,
    jobIds: string[],
  ): Promise<{ transitions: Transition[]; cancels: CancelPush[] }> {
    const ids = [...new Set(jobIds.map((id) => id.toLowerCase()))];
    if (ids.length === 0) return { transitions: [], cancels: [] };
    return this.#database.transaction(async (tx) => {
      const rows = await tx
        .select()
        .from(jobs)
        .where(and(inArray(jobs.id, ids), scope.orgId ? eq(jobs.orgId, scope.orgId) : undefined))
        .orderBy(asc(jobs.id))
        .for("update");
      const byId = new Map(rows.map((r) => [r.id, r]));
      const transitions: Transition[] = [];
      const cancels: CancelPush[] = [];
      for (const id of ids) {
        const row = byId.get(id);
        const push = (attempt: number, reason: CancelReason) =>
          cancels.push({ workerId: scope.workerId, jobId: id, attempt, reason });
        if (!row) {
          push(0, "deleted");
          continue;
        }
        if (!isActive(row.state) || row.workerId !== scope.workerId) {
          push(row.attempts, "lease_lost");
          continue;
        }
        const starting = row.state === "dispatched";
        transitions.push(
          await update(
            tx,
            row,
            { leaseExpiresAt: later(this.options.leaseMs), ...(starting ? { state: "running" } : {}) },
            starting ? [{ type: "state", state: "running", workerId: scope.workerId, failure: null }] : [],
          ),
        );
        if (row.cancelRequested) push(row.attempts, "requested");
      }
      return { transitions, cancels };
    });
  }

  /** Step reports of the attempt that holds the job; they also mark a dispatched job running. */
  async record(
    scope: WorkerScope,
    jobId: string,
    attempt: number,
    events: WorkerJobEvent[],
  ): Promise<Transition> {
    return this.#database.transaction(async (tx) => {
      const row = await this.#lockHeld(tx, scope, jobId, attempt);
      const starting = row.state === "dispatched";
      // The agent's tool calls that ended, with the events that say so (ADR 0033); no statement without one.
      await recordAudit(tx, ...(await this.#toolAudit.entries(tx, row, events)));
      return update(
        tx,
        row,
        { leaseExpiresAt: later(this.options.leaseMs), ...(starting ? { state: "running" } : {}) },
        [
          ...(starting
            ? [{ type: "state" as const, state: "running" as const, workerId: scope.workerId, failure: null }]
            : []),
          ...events,
        ],
        attempt,
      );
    });
  }

  /** Idempotent: the same attempt completing again gets the stored outcome and changes nothing. */
  async complete(scope: WorkerScope, jobId: string, attempt: number, result: JobResult): Promise<Outcome> {
    this.#toolAudit.forget(jobId);
    return this.#database.transaction(async (tx) => {
      const row = await lockInScope(tx, scope, jobId);
      if (row.attempts === attempt && row.state === "completed") return unchanged(row);
      const held = await this.#lockHeld(tx, scope, jobId, attempt, row);
      return { ...(await endAttempt(tx, held, { state: "completed", result })), changed: true };
    });
  }

  async fail(
    scope: WorkerScope,
    jobId: string,
    attempt: number,
    code: JobFailureCode,
    message: string,
  ): Promise<Outcome> {
    this.#toolAudit.forget(jobId);
    return this.#database.transaction(async (tx) => {
      const row = await lockInScope(tx, scope, jobId);
      const repeated =
        row.attempts === attempt &&
        (row.state === "failed" || row.state === "queued") &&
        row.failureCode === code;
      if (repeated) return unchanged(row);
      const held = await this.#lockHeld(tx, scope, jobId, attempt, row);
      return { ...(await endAttempt(tx, held, this.#afterFailure(held, code, message))), changed: true };
    });
  }

  async cancelAck(scope: WorkerScope, jobId: string, attempt: number): Promise<Outcome> {
    this.#toolAudit.forget(jobId);
    return this.#database.transaction(async (tx) => {
      const row = await lockInScope(tx, scope, jobId);
      if (row.attempts === attempt && row.state === "cancelled") return unchanged(row);
      const held = await this.#lockHeld(tx, scope, jobId, attempt, row);
      if (!held.cancelRequested) {
        throw new BadRequestError(
          "bad_request",
          "no cancel was asked for this job; report a failure with fail",
        );
      }
      const end: AttemptEnd = { state: "cancelled", code: "cancelled", message: "cancelled on request" };
      return { ...(await endAttempt(tx, held, end)), changed: true };
    });
  }

  /**
   * Cancels a queued job at once; asks the worker of an active one to stop (it acknowledges, or the
   * sweeper stops waiting after the grace period). A finished job stays as it is.
   */
  async requestCancel(
    orgId: string,
    jobId: string,
    by: string | null,
  ): Promise<Outcome & { push: CancelPush | null }> {
    return this.#database.transaction(async (tx) => {
      const row = await lockInScope(tx, { workerId: "", orgId }, jobId);
      if (row.state === "cancelled") return { ...unchanged(row), push: null };
      if (row.state === "queued") {
        const end: AttemptEnd = { state: "cancelled", code: "cancelled", message: "cancelled before it ran" };
        return { ...(await endAttempt(tx, row, end)), changed: true, push: null };
      }
      if (!isActive(row.state)) throw notActive(row);
      const push: CancelPush = { workerId: row.workerId!, jobId, attempt: row.attempts, reason: "requested" };
      if (row.cancelRequested) return { ...unchanged(row), push };
      const t = await update(tx, row, { cancelRequested: true, cancelRequestedAt: sql`now()` }, [
        { type: "cancel-requested", by },
      ]);
      return { ...t, changed: true, push };
    });
  }

  /**
   * Ends attempts nobody will finish: leases that ran out (the worker vanished), attempts over the time
   * limit, and cancels the worker never acknowledged. Safe on every replica at once (SKIP LOCKED).
   */
  async sweep(): Promise<Array<Transition & { push: CancelPush | null }>> {
    const { timeoutMs, cancelGraceMs } = this.options;
    return this.#database.transaction(async (tx) => {
      const due = await tx
        .select({
          row: jobs,
          leaseLost: sql<boolean>`${jobs.leaseExpiresAt} < now()`,
        })
        .from(jobs)
        .where(
          and(
            inArray(jobs.state, ACTIVE),
            sql`(${jobs.leaseExpiresAt} < now()
              OR ${jobs.startedAt} < now() - make_interval(secs => ${timeoutMs / 1000})
              OR ${jobs.cancelRequestedAt} < now() - make_interval(secs => ${cancelGraceMs / 1000}))`,
          ),
        )
        .orderBy(asc(jobs.leaseExpiresAt))
        .limit(100)
        .for("update", { skipLocked: true });
      const out: Array<Transition & { push: CancelPush | null }> = [];
      for (const { row, leaseLost } of due) {
        let end: AttemptEnd;
        let reason: CancelReason;
        if (row.cancelRequested) {
          end = { state: "cancelled", code: "cancelled", message: "cancelled on request" };
          reason = "requested";
        } else if (leaseLost) {
          end = this.#afterFailure(row, "worker_lost", "the worker stopped renewing its lease");
          reason = "lease_lost";
        } else {
          // Still renewing its lease, so alive, but over the time limit.
          end = this.#afterFailure(
            row,
            "timeout",
            `the attempt ran longer than ${Math.round(timeoutMs / 1000)} s`,
          );
          reason = "timeout";
        }
        const t = await endAttempt(tx, row, end);
        const push = row.workerId
          ? { workerId: row.workerId, jobId: row.id, attempt: row.attempts, reason }
          : null;
        out.push({ ...t, push });
      }
      return out;
    });
  }

  /** Jobs of a deleted project go with it; the ones still held are returned so their workers stop. */
  async deleteProject(orgId: string, projectId: string): Promise<CancelPush[]> {
    const gone = await this.#database.db
      .delete(jobs)
      .where(and(eq(jobs.orgId, orgId), eq(jobs.projectId, projectId)))
      .returning({ id: jobs.id, state: jobs.state, workerId: jobs.workerId, attempts: jobs.attempts });
    return gone
      .filter((j) => isActive(j.state) && j.workerId)
      .map((j) => ({ workerId: j.workerId!, jobId: j.id, attempt: j.attempts, reason: "deleted" as const }));
  }

  #afterFailure(row: JobRow, code: JobFailureCode, message: string): AttemptEnd {
    if (row.cancelRequested)
      return { state: "cancelled", code: "cancelled", message: "cancelled on request" };
    const decision = retryDecision(code, row.attempts, row.maxAttempts, this.options.retryBaseMs);
    return decision.retry
      ? { state: "queued", code, message, delayMs: decision.delayMs }
      : { state: "failed", code, message };
  }

  /** The row, locked, if this worker's `attempt` still holds it; otherwise the reason it does not. */
  async #lockHeld(
    tx: Executor,
    scope: WorkerScope,
    jobId: string,
    attempt: number,
    locked?: JobRow,
  ): Promise<JobRow> {
    const row = locked ?? (await lockInScope(tx, scope, jobId));
    if (row.attempts !== attempt) throw staleAttempt();
    if (row.state === "queued") throw staleAttempt();
    if (!isActive(row.state)) throw notActive(row);
    if (row.workerId !== scope.workerId) throw staleAttempt();
    return row;
  }
}

async function lockInScope(tx: Executor, scope: WorkerScope, jobId: string): Promise<JobRow> {
  if (!looksLikeId(jobId)) throw jobNotFound();
  const [row] = await tx
    .select()
    .from(jobs)
    .where(and(eq(jobs.id, jobId.toLowerCase()), scope.orgId ? eq(jobs.orgId, scope.orgId) : undefined))
    .for("update");
  // Another org's job answers exactly like a missing one.
  if (!row) throw jobNotFound();
  return row;
}

function unchanged(row: JobRow): Outcome {
  return { job: toJob(row), events: [], changed: false };
}
