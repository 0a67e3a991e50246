import type { AddressInfo } from "node:net";
import { currentTurn, type FakeProvider, readConversation, startFakeProvider } from "@kiln/fake-provider";
import type { RunEvent } from "@kiln/protocol";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SignedUp, startTestKiln, type TestKiln, uniqueSlug } from "../testing/harness.ts";
import { TestWorker } from "../testing/jobs.ts";
import { type PgCluster, startPgCluster } from "../testing/pg-cluster.ts";
import { readSse } from "../testing/sse.ts";
import { type Database, openDatabase, query } from "./client.ts";

/**
 * Chaos on a PostgreSQL cluster of this file's own: restarted while five chat turns stream (tool-call
 * arguments arriving in small pieces) and the API is busy, and stopped for 30 s. What the streams showed
 * and what the database keeps must be one story, every model call must be in the call log exactly once,
 * every answer during the outage a retryable 503, and Kiln must go on working. KILN_CHAOS_ROUNDS repeats
 * the restart (the "run it 20 times").
 */

const ROUNDS = Number(process.env.KILN_CHAOS_ROUNDS ?? 1);
const WORKER_TOKEN = `instance-${"w".repeat(40)}`;
const CHATS = 5;

let cluster: PgCluster;
let database: Database;
let fake: FakeProvider;
let kiln: TestKiln;
let base: string;
let owner: SignedUp;
let org: string;
let schema: string;
let project: string;
const chats: string[] = [];
const crashes: unknown[] = [];
const record = (err: unknown) => crashes.push(err);
let files = 0;
let worker: TestWorker;

beforeAll(async () => {
  process.on("uncaughtException", record);
  process.on("unhandledRejection", record);
  cluster = await startPgCluster();
  database = await openDatabase({ databaseUrl: cluster.url });
  fake = await startFakeProvider({
    // First the agent writes a file (its arguments streamed in small pieces), then it says it is done.
    responder: (request) => {
      const done = currentTurn(readConversation(request)).some((m) => m.toolResults.length > 0);
      if (done)
        return { text: "Done: the notes are written and saved. ".repeat(4), chunkSize: 4, delayMs: 30 };
      return {
        text: "Writing the notes.",
        toolCalls: [
          { name: "write_file", arguments: { path: `notes/n${++files}.md`, content: "note ".repeat(160) } },
        ],
        chunkSize: 8,
        delayMs: 20,
      };
    },
  });
  kiln = await startTestKiln({
    database,
    env: {
      OPENAI_BASE_URL: `${fake.url}/v1`,
      OPENAI_API_KEY: "fake-key",
      KILN_MODEL: "openai/fake-model",
      KILN_LLM_RETRY_BASE_MS: "10",
      KILN_MAX_CHAT_RUNS_PER_USER: String(CHATS),
      KILN_WORKER_TOKEN: WORKER_TOKEN,
    },
  });
  await kiln.app.listen({ port: 0, host: "127.0.0.1" });
  base = `http://127.0.0.1:${(kiln.app.server.address() as AddressInfo).port}`;
  owner = await kiln.signup();
  org = uniqueSlug("chaos");
  const made = await owner.client.post("/api/orgs", { name: "Chaos", slug: org });
  expect(made.statusCode).toBe(201);
  const [row] = await query<{ schema: string }>(
    database.db,
    sql`SELECT schema_name AS schema FROM orgs WHERE slug = ${org}`,
  );
  schema = row!.schema;
  const p = await owner.client.post(`/api/orgs/${org}/projects`, { name: "Notes", template: "static" });
  expect(p.statusCode).toBe(201);
  project = p.json().slug;
  for (let i = 0; i < CHATS; i++) {
    const c = await owner.client.post(`/api/orgs/${org}/projects/${project}/chats`, { mode: "allow" });
    expect(c.statusCode).toBe(201);
    chats.push(c.json().id);
  }
}, 180_000);

afterAll(async () => {
  worker?.ws.terminate();
  await kiln?.stop();
  // Would hang on a client that was never given back (a leak through an outage).
  await database?.close();
  await fake?.close();
  await cluster?.destroy();
  process.off("uncaughtException", record);
  process.off("unhandledRejection", record);
});

function headers(): Record<string, string> {
  const c = owner.client;
  return {
    cookie: [...c.cookies].map(([k, v]) => `${k}=${v.value}`).join("; "),
    ...(c.csrf ? { "x-csrf-token": c.csrf } : {}),
  };
}

interface Turn {
  messageId: string;
  live: RunEvent[];
  errors: unknown[];
}

/** Sends to a chat as the studio does (SSE) and reads the turn live to its end. */
async function streamTurn(chat: string): Promise<Turn> {
  const res = await readSse(`${base}/api/orgs/${org}/projects/${project}/chats/${chat}/messages`, {
    method: "POST",
    headers: headers(),
    body: { content: "Write the notes" },
    timeoutMs: 120_000,
  });
  expect(res.status).toBe(200);
  const live = res.events
    .filter((e) => e.event !== "error" && e.id !== undefined)
    .map((e) => e.data as RunEvent);
  return {
    messageId: live[0]!.event.messageId,
    live,
    errors: res.events.filter((e) => e.event === "error").map((e) => e.data),
  };
}

/** GET /api/orgs/… every 25 ms until stopped; what it answered, by status and code. */
function apiTraffic() {
  const answers: Array<{ status: number; code?: string; retryAfter?: string }> = [];
  let going = true;
  const loop = (async () => {
    while (going) {
      const res = await owner.client.get(`/api/orgs/${org}/projects/${project}/chats`);
      answers.push({
        status: res.statusCode,
        ...(res.statusCode !== 200
          ? { code: res.json().error?.code, retryAfter: String(res.headers["retry-after"]) }
          : {}),
      });
      await new Promise((r) => setTimeout(r, 25));
    }
  })();
  return {
    answers,
    async stop() {
      going = false;
      await loop;
    },
  };
}

async function storedEvents(chat: string, messageId: string): Promise<RunEvent[]> {
  const res = await owner.client.get(
    `/api/orgs/${org}/projects/${project}/chats/${chat}/messages/${messageId}/events?after=0`,
  );
  expect(res.statusCode).toBe(200);
  return res.json();
}

async function storedStatus(chat: string, messageId: string): Promise<string> {
  const res = await owner.client.get(`/api/orgs/${org}/projects/${project}/chats/${chat}`);
  expect(res.statusCode).toBe(200);
  return res.json().messages.find((m: { id: string }) => m.id === messageId).status;
}

/** One story: numbered 1, 2, 3… live, ended once, and the database holds exactly that. */
async function expectOneStory(chat: string, turn: Turn): Promise<string> {
  expect(turn.live.map((e) => e.seq)).toEqual(turn.live.map((_, i) => i + 1));
  const ends = turn.live.filter((e) => e.event.type === "message-end");
  expect(ends).toHaveLength(1);
  expect(turn.live.at(-1)!.event.type).toBe("message-end");
  expect(await storedEvents(chat, turn.messageId)).toEqual(turn.live);
  const end = ends[0]!.event as Extract<RunEvent["event"], { type: "message-end" }>;
  expect(await storedStatus(chat, turn.messageId)).toBe(end.status);
  return end.reason;
}

async function modelCalls(): Promise<number> {
  return fake.requests.filter((r) => r.method === "POST").length;
}

async function loggedCalls(): Promise<number> {
  const rows = await database.tenant(schema, (tx) =>
    query<{ n: number; ids: number }>(
      tx,
      sql`SELECT count(*)::int AS n, count(DISTINCT id)::int AS ids FROM llm_calls`,
    ),
  );
  expect(rows[0]!.n).toBe(rows[0]!.ids);
  return rows[0]!.n;
}

/** Every answer that was not a 200 was the outage's retryable 503. */
function expectRetryable(answers: Array<{ status: number; code?: string; retryAfter?: string }>): void {
  // The outage was seen (else this round proves nothing), and it was all it was.
  expect(answers.filter((a) => a.status === 503).length).toBeGreaterThan(0);
  const other = answers.filter(
    (a) =>
      a.status !== 200 && !(a.status === 503 && a.code === "database_unavailable" && a.retryAfter === "1"),
  );
  expect(other).toEqual([]);
}

/**
 * A board job on a worker, reporting a step every 40 ms from before the outage to after it; it completes
 * afterwards. Every step it reported is in its log, in order, once.
 */
async function runningJob() {
  // A worker of this round's own, registered afresh (it only beats while its job runs).
  worker?.ws.terminate();
  worker = await TestWorker.connect(`${base.replace("http", "ws")}/api/workers/socket`, WORKER_TOKEN);
  await worker.register({ concurrency: 1 });
  // Taken before the job exists: it is pushed to the worker while the create request is still answering.
  const since = worker.received.length;
  const made = await owner.client.post(`/api/orgs/${org}/projects/${project}/jobs`, {
    kind: "implement",
    instructions: "write the notes",
  });
  expect(made.statusCode).toBe(201);
  const jobId: string = made.json().id;
  await worker.waitFor("job", (m) => m.job.id === jobId, since);
  worker.send({ type: "heartbeat", jobIds: [jobId] });
  let steps = 0;
  let going = true;
  const reporting = (async () => {
    while (going) {
      worker.send({
        type: "job-event",
        jobId,
        attempt: 1,
        event: { type: "step", name: `step-${++steps}`, status: "done" },
      });
      if (steps % 10 === 0) worker.send({ type: "heartbeat", jobIds: [jobId] });
      await new Promise((r) => setTimeout(r, 40));
    }
  })();
  return {
    async finish() {
      going = false;
      await reporting;
      const at = worker.received.length;
      worker.send({
        type: "complete",
        jobId,
        attempt: 1,
        result: { summary: "done", branch: `kiln/job-${jobId}`, commit: "b".repeat(40) },
      });
      const ack = await worker.waitFor("ack", (m) => m.jobId === jobId, at, 60_000);
      expect(ack).toMatchObject({ of: "complete", state: "completed" });
      const events = await owner.client.get(`/api/orgs/${org}/jobs/${jobId}/events?after=0`);
      expect(events.statusCode).toBe(200);
      const names = (events.json() as Array<{ event: { type: string; name?: string } }>)
        .filter((e) => e.event.type === "step")
        .map((e) => e.event.name);
      expect(names).toEqual(Array.from({ length: steps }, (_, i) => `step-${i + 1}`));
      expect(worker.received.filter((m) => m.type === "error")).toEqual([]);
    },
  };
}

async function newTurnCompletes(): Promise<void> {
  const turn = await streamTurn(chats[0]!);
  expect(await expectOneStory(chats[0]!, turn)).toBe("done");
}

describe("PostgreSQL restarts while turns stream and the API is busy", () => {
  for (let round = 1; round <= ROUNDS; round++) {
    it(`tells one story per turn, loses no model call, answers 503 meanwhile (round ${round}/${ROUNDS})`, async () => {
      const callsBefore = await modelCalls();
      const loggedBefore = await loggedCalls();
      const job = await runningJob();
      const traffic = apiTraffic();
      const turns = Promise.all(chats.map((c) => streamTurn(c)));
      // About when the write_file arguments stream.
      await new Promise((r) => setTimeout(r, 1200));
      await cluster.restart({ mode: round % 2 === 0 ? "immediate" : "fast" });
      const done = await turns;
      await traffic.stop();
      await job.finish();
      for (const [i, turn] of done.entries()) {
        expect(turn.errors).toEqual([]);
        // A short restart is waited out: the turn finishes as if nothing happened.
        expect(await expectOneStory(chats[i]!, turn)).toBe("done");
      }
      expectRetryable(traffic.answers);
      const calls = (await modelCalls()) - callsBefore;
      expect(calls).toBeGreaterThanOrEqual(CHATS * 2);
      await expect.poll(async () => (await loggedCalls()) - loggedBefore, { timeout: 15_000 }).toBe(calls);
      expect(crashes).toEqual([]);
    }, 180_000);
  }

  it("a new turn completes afterwards", async () => {
    await newTurnCompletes();
  }, 60_000);
});

describe("PostgreSQL stays down for 30 s", () => {
  it("turns stop as database_unavailable, told the same live and stored; every answer meanwhile is a 503", async () => {
    const callsBefore = await modelCalls();
    const loggedBefore = await loggedCalls();
    const traffic = apiTraffic();
    const turns = Promise.all(chats.map((c) => streamTurn(c)));
    await new Promise((r) => setTimeout(r, 1200));
    await cluster.stop("fast");
    await new Promise((r) => setTimeout(r, 30_000));
    const down = traffic.answers.length;
    await cluster.start();
    const done = await turns;
    await traffic.stop();
    expect(down).toBeGreaterThan(50);
    for (const [i, turn] of done.entries()) {
      expect(turn.errors).toEqual([]);
      // The second model call could not be counted against the rate limit while the database was away.
      expect(await expectOneStory(chats[i]!, turn)).toBe("database_unavailable");
      const end = turn.live.at(-1)!.event as { detail?: string };
      expect(end.detail).toMatch(/lost its database/);
      expect(turn.live.some((e) => e.event.type === "model-retry")).toBe(true);
    }
    expectRetryable(traffic.answers);
    const calls = (await modelCalls()) - callsBefore;
    await expect.poll(async () => (await loggedCalls()) - loggedBefore, { timeout: 15_000 }).toBe(calls);
    expect(crashes).toEqual([]);
    await newTurnCompletes();
  }, 180_000);
});
