import { randomUUID } from "node:crypto";
import { asc, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jobEvents, jobs } from "../db/schema-shared.ts";
import { startTestKiln, type TestKiln, uniqueSlug } from "../testing/harness.ts";
import { isolatedDatabase } from "../testing/jobs.ts";
import { compactJobEvents } from "./compaction.ts";

let kiln: TestKiln;
let isolated: Awaited<ReturnType<typeof isolatedDatabase>>;
let orgId: string;
beforeAll(async () => {
  // A database of its own: compaction takes every finished job, and other files' jobs are theirs to read.
  isolated = await isolatedDatabase();
  kiln = await startTestKiln({ database: isolated.database });
  const { client } = await kiln.signup();
  orgId = (await client.post("/api/orgs", { name: "Compact", slug: uniqueSlug("compact") })).json().id;
}, 120_000);
afterAll(async () => {
  await kiln?.stop();
  await isolated?.drop();
});

const HOUR = 3_600_000;

/** A job finished `finishedAgoMs` ago (or still running) whose agent streamed `chunks` text chunks. */
async function jobWithLog(finishedAgoMs: number | undefined, chunks: number): Promise<string> {
  const id = randomUUID();
  const finishedAt = finishedAgoMs === undefined ? null : new Date(Date.now() - finishedAgoMs);
  await kiln.database.transaction(async (tx) => {
    await tx.insert(jobs).values({
      id,
      orgId,
      projectId: randomUUID(),
      kind: "implement",
      instructions: "x",
      state: finishedAt ? "completed" : "running",
      maxAttempts: 3,
      finishedAt,
      lastSeq: chunks + 2,
    });
    const agent = (event: object) => ({ type: "agent", event: { messageId: "m", ...event } });
    await tx.insert(jobEvents).values([
      { jobId: id, seq: 1, attempt: 1, event: { type: "step", name: "agent", status: "started" } },
      ...Array.from({ length: chunks }, (_, i) => ({
        jobId: id,
        seq: i + 2,
        attempt: 1,
        event: agent({ type: "text-delta", delta: `w${i} ` }),
      })),
      { jobId: id, seq: chunks + 2, attempt: 1, event: agent({ type: "message-end", status: "completed" }) },
    ]);
  });
  return id;
}

const eventsOf = (id: string) =>
  kiln.database.db.select().from(jobEvents).where(eq(jobEvents.jobId, id)).orderBy(asc(jobEvents.seq));

describe("job event compaction", () => {
  it("folds the text chunks of jobs finished over an hour ago into one event, once", async () => {
    const old = await jobWithLog(2 * HOUR, 1_500);
    const recent = await jobWithLog(10 * 60_000, 20);
    const running = await jobWithLog(undefined, 20);

    const first = await compactJobEvents(kiln.database, HOUR);
    expect(first.jobs).toBeGreaterThanOrEqual(1);
    const events = await eventsOf(old);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 1_502]);
    const text = (events[1]!.event as { event: { delta: string } }).event.delta;
    expect(text).toBe(Array.from({ length: 1_500 }, (_, i) => `w${i} `).join(""));
    expect(await eventsOf(recent)).toHaveLength(22);
    expect(await eventsOf(running)).toHaveLength(22);
    const [row] = await kiln.database.db.select().from(jobs).where(eq(jobs.id, old));
    expect(row!.eventsCompactedAt).toBeInstanceOf(Date);

    // Done once: the next pass does not read it again; the recent one is compacted when its hour is up.
    await compactJobEvents(kiln.database, HOUR);
    expect((await eventsOf(old)).map((e) => e.seq)).toEqual([1, 2, 1_502]);
    await compactJobEvents(kiln.database, 60_000);
    expect(await eventsOf(recent)).toHaveLength(3);
    expect(await eventsOf(running)).toHaveLength(22);
  });
});
