import type { Job, JobEvent, JobEventBody, JobFailureCode, JobResult } from "@kiln/protocol";
import { eq, type SQL, sql } from "drizzle-orm";
import type { PgUpdateSetSource } from "drizzle-orm/pg-core";
import type { Executor } from "../db/client.ts";
import { jobs } from "../db/schema-shared.ts";
import { appendEvents, type JobRow, toJob } from "./store.ts";

/** One committed change of a job: what it is now, and the events it added (to publish after commit). */
export interface Transition {
  job: Job;
  events: JobEvent[];
}

/** `now() + ms` in the database's clock: leases are compared there, so replicas' clocks never matter. */
export function later(ms: number): SQL {
  return sql`now() + make_interval(secs => ${ms / 1000})`;
}

export type AttemptEnd =
  | { state: "completed"; result: JobResult }
  | { state: "failed" | "cancelled"; code: JobFailureCode; message: string }
  /** Back in the queue for another attempt after `delayMs`. */
  | { state: "queued"; code: JobFailureCode; message: string; delayMs: number };

/** Ends the running attempt of a locked row: clears its lease and token and logs the new state. */
export async function endAttempt(tx: Executor, row: JobRow, end: AttemptEnd): Promise<Transition> {
  const failure = end.state === "completed" ? null : { code: end.code, message: end.message };
  const [updated] = await tx
    .update(jobs)
    .set({
      state: end.state,
      leaseExpiresAt: null,
      tokenHash: null,
      updatedAt: sql`now()`,
      ...(end.state === "completed" ? { result: end.result, failureCode: null, failureMessage: null } : {}),
      ...(failure ? { failureCode: failure.code, failureMessage: failure.message } : {}),
      ...(end.state === "queued"
        ? { runAfter: later(end.delayMs), workerId: null }
        : { finishedAt: sql`now()` }),
    })
    .where(eq(jobs.id, row.id))
    .returning();
  const events = await appendEvents(tx, row.id, row.attempts, [
    { type: "state", state: end.state, workerId: row.workerId, failure },
  ]);
  return { job: toJob(updated!), events };
}

/** Changes a locked row and logs events in the same transaction. */
export async function update(
  tx: Executor,
  row: JobRow,
  set: PgUpdateSetSource<typeof jobs>,
  events: JobEventBody[],
  attempt = row.attempts,
): Promise<Transition> {
  const [updated] = await tx
    .update(jobs)
    .set({ ...set, updatedAt: sql`now()` })
    .where(eq(jobs.id, row.id))
    .returning();
  const stored = await appendEvents(tx, row.id, attempt, events);
  return { job: toJob(updated!), events: stored };
}
