import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { type FakeProvider, startFakeProvider } from "@kiln/fake-provider";
import type { Job, JobEvent } from "@kiln/protocol";
import { sql } from "drizzle-orm";
import type { FastifyBaseLogger } from "fastify";
import pino from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../testing/free-port.ts";
import { type SignedUp, startTestKiln, type TestKiln, uniqueSlug } from "../testing/harness.ts";
import { KilnWorker } from "./client.ts";

/**
 * The worker when the server ends an attempt on its own (ADR 0012) — the sweeper over the time limit, the
 * project deleted: it stops the attempt and frees the slot without a word about it, as the server waits
 * for none (a cancel-ack or a last step report would only be refused, and the attempt kept forever).
 */

const WORKER_TOKEN = randomBytes(24).toString("hex");

let fake: FakeProvider;
let kiln: TestKiln;
let port: number;
let owner: SignedUp;
let org: string;
let workDir: string;
let worker: KilnWorker | undefined;
/** What the worker logged, parsed: the server's error answers among them. */
let logged: Array<{ msg: string; code?: string }> = [];

beforeAll(async () => {
  fake = await startFakeProvider();
  port = await freePort();
  kiln = await startTestKiln({
    env: {
      OPENAI_BASE_URL: `${fake.url}/v1`,
      OPENAI_API_KEY: "fake-key",
      KILN_MODEL: "openai/fake-model",
      KILN_WORKER_TOKEN: WORKER_TOKEN,
      KILN_PUBLIC_URL: `http://127.0.0.1:${port}`,
      // The test sweeps by hand; a retry would wait long enough not to be dispatched meanwhile.
      KILN_JOB_SWEEP_SECONDS: "0",
      KILN_JOB_RETRY_BASE_SECONDS: "600",
    },
  });
  await kiln.app.listen({ port, host: "127.0.0.1" });
  owner = await kiln.signup();
  org = uniqueSlug("org");
  await owner.client.post("/api/orgs", { name: "Worker client", slug: org });
  workDir = await mkdtemp(path.join(os.tmpdir(), "kiln-worker-client-"));
}, 120_000);

afterEach(async () => {
  await worker?.stop();
  worker = undefined;
});

afterAll(async () => {
  await kiln?.stop();
  await fake?.close();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

async function startWorker(): Promise<KilnWorker> {
  logged = [];
  const log = pino({ level: "info" }, { write: (line: string) => logged.push(JSON.parse(line)) });
  worker = new KilnWorker({
    server: `http://127.0.0.1:${port}`,
    token: WORKER_TOKEN,
    concurrency: 1,
    driver: kiln.driver,
    workDir,
    log: log as unknown as FastifyBaseLogger,
  });
  await worker.start();
  return worker;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A job whose model call never answers, running on the worker. */
async function hangingJob(): Promise<{ project: { slug: string; id: string }; job: Job }> {
  const project = (
    await owner.client.post(`/api/orgs/${org}/projects`, { name: "Hanging", template: "static" })
  ).json();
  fake.reset();
  fake.enqueue({ hang: true });
  const started = await owner.client.post(`/api/orgs/${org}/projects/${project.slug}/jobs`, {
    kind: "implement",
    instructions: "Wait for the model",
  });
  expect(started.statusCode).toBe(201);
  const jobId = started.json().id;
  await until("the model call", async () => (fake.requests.length > 0 ? true : undefined));
  const job = (await owner.client.get(`/api/orgs/${org}/jobs/${jobId}`)).json() as Job;
  expect(job.state).toBe("running");
  return { project, job };
}

describe("kiln worker, when the server ends an attempt itself", () => {
  it("stops an attempt the sweeper ended for running too long, frees the slot and says nothing of it", async () => {
    const w = await startWorker();
    const { job } = await hangingJob();
    expect(w.running).toBe(1);
    await kiln.database.db.execute(
      sql`UPDATE jobs SET started_at = now() - interval '1 day' WHERE id = ${job.id}`,
    );
    expect(await kiln.services.jobs.sweep()).toBe(1);
    const after = (await owner.client.get(`/api/orgs/${org}/jobs/${job.id}`)).json() as Job;
    expect(after).toMatchObject({ state: "queued", failure: { code: "timeout" } });
    const seq = ((await owner.client.get(`/api/orgs/${org}/jobs/${job.id}/events`)).json() as JobEvent[]).at(
      -1,
    )!.seq;

    await until("the slot to be free", async () => (w.running === 0 ? true : undefined));
    // Nothing reached the server about the ended attempt: no refusal, no event after its end.
    expect(logged.filter((l) => l.code)).toEqual([]);
    const events = (await owner.client.get(`/api/orgs/${org}/jobs/${job.id}/events?after=${seq}`)).json();
    expect(events).toEqual([]);
    expect((await owner.client.post(`/api/orgs/${org}/jobs/${job.id}/cancel`)).statusCode).toBe(200);
  });

  it("stops an attempt whose project was deleted, frees the slot and says nothing of it", async () => {
    const w = await startWorker();
    const { project } = await hangingJob();
    expect(w.running).toBe(1);
    expect((await owner.client.delete(`/api/orgs/${org}/projects/${project.slug}`)).statusCode).toBe(200);

    await until("the slot to be free", async () => (w.running === 0 ? true : undefined));
    expect(logged.filter((l) => l.code)).toEqual([]);
  });
});
