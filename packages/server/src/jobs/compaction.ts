import { and, asc, eq, inArray, isNotNull, isNull, lt } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { jobEvents, jobs } from "../db/schema-shared.ts";

/** Jobs compacted per pass of the loop (each in its own transaction). */
const BATCH = 50;

export interface StoredJobEvent {
  seq: number;
  attempt: number;
  event: unknown;
}

interface Delta {
  type: "agent";
  event: { type: "text-delta" | "reasoning-delta"; messageId: string; delta: string };
}

function asDelta(event: unknown): Delta | undefined {
  const e = event as { type?: string; event?: { type?: string; messageId?: unknown; delta?: unknown } };
  const inner = e?.event;
  if (e?.type !== "agent" || !inner) return undefined;
  if (inner.type !== "text-delta" && inner.type !== "reasoning-delta") return undefined;
  if (typeof inner.messageId !== "string" || typeof inner.delta !== "string") return undefined;
  return e as Delta;
}

/**
 * Folds each run of adjacent text (or reasoning) chunks of one message and attempt into its first event:
 * what a reader folding the events sees is the same, with one row instead of one per chunk. Returns the
 * events to rewrite and the sequence numbers to drop; the sequence stays increasing, with gaps.
 */
export function mergeDeltas(rows: readonly StoredJobEvent[]): {
  rewrite: StoredJobEvent[];
  drop: number[];
} {
  const rewrite: StoredJobEvent[] = [];
  const drop: number[] = [];
  let head: { row: StoredJobEvent; delta: Delta; parts: string[] } | undefined;
  const close = () => {
    if (head && head.parts.length > 1) {
      const event = { ...head.delta, event: { ...head.delta.event, delta: head.parts.join("") } };
      rewrite.push({ ...head.row, event });
    }
    head = undefined;
  };
  for (const row of rows) {
    const delta = asDelta(row.event);
    const continues =
      delta &&
      head &&
      head.row.attempt === row.attempt &&
      head.delta.event.type === delta.event.type &&
      head.delta.event.messageId === delta.event.messageId;
    if (continues) {
      head!.parts.push(delta.event.delta);
      drop.push(row.seq);
      continue;
    }
    close();
    if (delta) head = { row, delta, parts: [delta.event.delta] };
  }
  close();
  return { rewrite, drop };
}

/**
 * A job's log holds the agent's streamed text as it came: an event per chunk, so a long answer is a
 * thousand rows. Once a job has been finished for `olderThanMs` nobody follows it live any more (the board
 * stops at the final state), and its chunks are folded (`mergeDeltas`). Each job once, in its own
 * transaction; returns how many jobs were compacted and rows removed.
 */
export async function compactJobEvents(
  database: Database,
  olderThanMs: number,
): Promise<{ jobs: number; removed: number }> {
  const cutoff = new Date(Date.now() - olderThanMs);
  let compacted = 0;
  let removed = 0;
  for (;;) {
    const due = await database.db
      .select({ id: jobs.id })
      .from(jobs)
      .where(and(isNotNull(jobs.finishedAt), isNull(jobs.eventsCompactedAt), lt(jobs.finishedAt, cutoff)))
      .limit(BATCH);
    for (const { id } of due) {
      removed += await database.transaction(async (tx) => {
        const rows = await tx
          .select({ seq: jobEvents.seq, attempt: jobEvents.attempt, event: jobEvents.event })
          .from(jobEvents)
          .where(eq(jobEvents.jobId, id))
          .orderBy(asc(jobEvents.seq));
        const { rewrite, drop } = mergeDeltas(rows);
        for (const row of rewrite) {
          await tx
            .update(jobEvents)
            .set({ event: row.event })
            .where(and(eq(jobEvents.jobId, id), eq(jobEvents.seq, row.seq)));
        }
        for (let i = 0; i < drop.length; i += 1_000) {
          await tx
            .delete(jobEvents)
            .where(and(eq(jobEvents.jobId, id), inArray(jobEvents.seq, drop.slice(i, i + 1_000))));
        }
        await tx.update(jobs).set({ eventsCompactedAt: new Date() }).where(eq(jobs.id, id));
        return drop.length;
      });
      compacted++;
    }
    if (due.length < BATCH) break;
  }
  return { jobs: compacted, removed };
}
