import {
  type Job,
  JobAgent,
  type JobEvent,
  type JobEventBody,
  type JobFailureCode,
  type JobKind,
  type JobResult,
  type JobState,
} from "@kiln/protocol";
import { and, asc, eq, gt, sql } from "drizzle-orm";
import type { Executor } from "../db/client.ts";
import { jobEvents, jobs } from "../db/schema-shared.ts";
import { KilnError } from "../errors/errors.ts";

/** Row ↔ wire mapping and the event log. Jobs live in the shared layer: every query names its org. */

export type JobRow = typeof jobs.$inferSelect;

/** A worker that floods a job's log is cut off here rather than filling the table. */
export const MAX_EVENTS_PER_JOB = 50_000;
export const EVENTS_PAGE = 1000;

export function toJob(row: JobRow): Job {
  return {
    id: row.id,
    orgId: row.orgId,
    projectId: row.projectId,
    taskId: row.taskId,
    kind: row.kind as JobKind,
    instructions: row.instructions,
    state: row.state as JobState,
    attempt: row.attempts,
    maxAttempts: row.maxAttempts,
    workerId: row.workerId,
    leaseExpiresAt: row.leaseExpiresAt?.toISOString() ?? null,
    cancelRequested: row.cancelRequested,
    failure: row.failureCode
      ? { code: row.failureCode as JobFailureCode, message: row.failureMessage ?? "" }
      : null,
    result: (row.result as JobResult | null) ?? null,
    requestedBy: row.requestedBy,
    agent:
      row.agentId !== null && row.agentVersion !== null
        ? { id: row.agentId, version: row.agentVersion }
        : null,
    nextAttemptAt: row.runAfter.toISOString(),
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    startedAt: row.startedAt?.toISOString() ?? null,
    finishedAt: row.finishedAt?.toISOString() ?? null,
  };
}

/** The agent spec a job carries to its worker; a job from before agents has none (the worker runs the built-in). */
export function jobAgentOf(row: JobRow): JobAgent | undefined {
  const parsed = JobAgent.safeParse(row.agentSpec);
  return parsed.success ? parsed.data : undefined;
}

/**
 * Appends events to a job's log, numbered after its `last_seq` under the row lock the UPDATE takes, so
 * two servers appending to one job wait for each other instead of colliding on a number.
 */
export async function appendEvents(
  tx: Executor,
  jobId: string,
  attempt: number,
  events: JobEventBody[],
): Promise<JobEvent[]> {
  if (events.length === 0) return [];
  const [row] = await tx
    .update(jobs)
    .set({ lastSeq: sql`${jobs.lastSeq} + ${events.length}` })
    .where(eq(jobs.id, jobId))
    .returning({ lastSeq: jobs.lastSeq });
  if (!row) return [];
  if (row.lastSeq > MAX_EVENTS_PER_JOB) {
    throw new KilnError("payload_too_large", `a job keeps at most ${MAX_EVENTS_PER_JOB} events`);
  }
  const first = row.lastSeq - events.length + 1;
  const stored = await tx
    .insert(jobEvents)
    .values(events.map((event, i) => ({ jobId, seq: first + i, attempt, event })))
    .returning();
  return stored.map(toEvent);
}

export async function eventsAfter(
  tx: Executor,
  jobId: string,
  after: number,
  limit = EVENTS_PAGE,
): Promise<JobEvent[]> {
  const rows = await tx
    .select()
    .from(jobEvents)
    .where(and(eq(jobEvents.jobId, jobId), gt(jobEvents.seq, after)))
    .orderBy(asc(jobEvents.seq))
    .limit(limit);
  return rows.map(toEvent);
}

function toEvent(row: typeof jobEvents.$inferSelect): JobEvent {
  return {
    seq: row.seq,
    attempt: row.attempt,
    at: row.createdAt.toISOString(),
    event: row.event as JobEventBody,
  };
}
