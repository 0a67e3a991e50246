import type { AddressInfo } from "node:net";
import type { Job } from "@kiln/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../db/client.ts";
import { openTestDatabase, type SignedUp, startTestKiln, type TestKiln } from "../testing/harness.ts";
import { TestWorker } from "../testing/jobs.ts";
import { type OpenSse, openSse } from "../testing/sse.ts";

/**
 * Every follower of a job's stream used to poll the database on its own: each event a worker reported
 * woke all of them, and each read the table — a viewer opening many streams on one job multiplied the
 * database's work by their number. One poller per job now serves them all, each from its own
 * Last-Event-ID. Measured by counting the reads of a job's event log, not by timing.
 */

const FOLLOWERS = 24;
const EVENTS = 12;
let database: Database;
let kiln: TestKiln;
let http: string;
let owner: SignedUp;
let base: string;
let worker: TestWorker;
let job: Job;
/** Reads of `job_events` and of a job's state and last number, the two queries a stream polls with. */
let reads = 0;

/** Counts the queries this Kiln's database client runs (outside transactions, where streams read). */
function countReads(db: Database): void {
  const client = (db.db as unknown as { $client: { query: (...args: unknown[]) => unknown } }).$client;
  const query = client.query.bind(client);
  client.query = (...args: unknown[]) => {
    const first = args[0];
    const text = typeof first === "string" ? first : String((first as { text?: string })?.text ?? "");
    if (/^select .* from "job_events"/is.test(text) || /^select "state", "last_seq" from "jobs"/i.test(text))
      reads++;
    return query(...args);
  };
}

beforeAll(async () => {
  database = await openTestDatabase();
  countReads(database);
  kiln = await startTestKiln({
    database,
    env: { KILN_JOB_SWEEP_SECONDS: "0", KILN_MAX_STREAMS_PER_USER: String(FOLLOWERS + 4) },
  });
  await kiln.app.listen({ port: 0, host: "127.0.0.1" });
  const { port } = kiln.app.server.address() as AddressInfo;
  http = `http://127.0.0.1:${port}`;
  owner = await kiln.signup();
  base = `/api/orgs/${owner.personalOrg.slug}`;
  const project = (await owner.client.post(`${base}/projects`, { name: "Work" })).json();
  const token = (await owner.client.post(`${base}/workers/tokens`, { name: "ci" })).json().token;
  worker = await TestWorker.connect(`ws://127.0.0.1:${port}/api/workers/socket`, token);
  await worker.register();
  job = (
    await owner.client.post(`${base}/projects/${project.slug}/jobs`, {
      kind: "implement",
      instructions: "go",
    })
  ).json();
  await worker.waitFor("job", (m) => m.job.id === job.id);
}, 120_000);

afterAll(async () => {
  await worker?.terminate();
  await kiln?.stop();
  await database?.close();
});

let logged = 0;
/** The worker reports one step; resolves once every stream in `streams` has it. */
async function step(streams: OpenSse[]): Promise<void> {
  const message = `step ${++logged}`;
  worker.send({
    type: "job-event",
    jobId: job.id,
    attempt: 1,
    event: { type: "log", level: "info", message },
  });
  await expect
    .poll(() => streams.every((s) => s.events.some((e) => hasMessage(e.data, message))), { timeout: 15_000 })
    .toBe(true);
}

const hasMessage = (data: unknown, message: string) =>
  (data as { event: { message?: string } }).event.message === message;

/** Reads counted while the worker reports EVENTS steps to `streams`. */
async function readsDuring(streams: OpenSse[]): Promise<number> {
  await step(streams);
  const before = reads;
  for (let i = 0; i < EVENTS; i++) await step(streams);
  return reads - before;
}

function open(lastEventId?: number): Promise<OpenSse> {
  const cookie = [...owner.client.cookies].map(([k, v]) => `${k}=${v.value}`).join("; ");
  return openSse(`${http}${base}/jobs/${job.id}/events`, {
    cookie,
    ...(lastEventId === undefined ? {} : { "last-event-id": String(lastEventId) }),
  });
}

describe("many followers of one job", () => {
  it("cost the database what one follower costs, and each gets every event once, in order", async () => {
    const one = await open();
    const alone = await readsDuring([one]);
    expect(alone).toBeGreaterThan(0);
    one.close();
    await one.ended;

    // Followers that start from different places: from the start, and from each point of the log so far.
    const last = Math.max(...one.events.map((e) => e.id ?? 0));
    const starts = Array.from({ length: FOLLOWERS }, (_, i) => (i === 0 ? undefined : i % (last + 1)));
    const many = await Promise.all(starts.map((s) => open(s)));
    expect(many.map((s) => s.status)).toEqual(Array(FOLLOWERS).fill(200));
    const crowd = await readsDuring(many);
    // One follower's reads, with room for a poll tick that fell inside the window; not FOLLOWERS times.
    expect(crowd, `reads with ${FOLLOWERS} followers: ${crowd}; with one: ${alone}`).toBeLessThanOrEqual(
      alone * 2 + 4,
    );

    worker.send({
      type: "complete",
      jobId: job.id,
      attempt: 1,
      result: { summary: "done", branch: null, commit: null },
    });
    await Promise.all(many.map((s) => s.ended));
    const final = (await owner.client.get(`${base}/jobs/${job.id}/events`)).json() as Array<{ seq: number }>;
    const lastSeq = final.at(-1)!.seq;
    many.forEach((s, i) => {
      const from = starts[i] ?? 0;
      const ids = s.events.map((e) => e.id);
      // No gap, no repeat: exactly the numbers after where it started, up to the job's last.
      expect(ids, `follower ${i} from ${from}`).toEqual(
        Array.from({ length: lastSeq - from }, (_, k) => from + k + 1),
      );
      expect(s.events.at(-1)!.data).toMatchObject({ event: { type: "state", state: "completed" } });
    });
  });
});
