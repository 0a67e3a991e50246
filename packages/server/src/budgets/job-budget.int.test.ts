import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { type FakeProvider, startFakeProvider } from "@kiln/fake-provider";
import type { Job } from "@kiln/protocol";
import type { FastifyBaseLogger } from "fastify";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../testing/free-port.ts";
import { type SignedUp, startTestKiln, type TestKiln, uniqueSlug } from "../testing/harness.ts";
import { KilnWorker } from "../worker/client.ts";

/**
 * A job's model calls go from a real worker through the /v1 proxy with the job's token: a run budget that
 * the first call would break stops the job with a clear, permanent `budget_exceeded` failure.
 */

const WORKER_TOKEN = randomBytes(24).toString("hex");
let fake: FakeProvider;
let kiln: TestKiln;
let port: number;
let owner: SignedUp;
let org: string;
let workDir: string;
let worker: KilnWorker | undefined;

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
    },
  });
  await kiln.app.listen({ port, host: "127.0.0.1" });
  owner = await kiln.signup();
  org = uniqueSlug("jb");
  await owner.client.post("/api/orgs", { name: "Job budgets", slug: org });
  workDir = await mkdtemp(path.join(os.tmpdir(), "kiln-budget-worker-"));
}, 120_000);

afterAll(async () => {
  await worker?.stop().catch(() => {});
  await kiln?.stop();
  await fake?.close();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe("a job against a run budget", () => {
  it("fails with budget_exceeded and the budget's message, without reaching the provider", async () => {
    const project = (
      await owner.client.post(`/api/orgs/${org}/projects`, { name: "Capped", template: "static" })
    ).json();
    const budget = await owner.client.post(`/api/orgs/${org}/budgets`, {
      scope: "org",
      period: "run",
      unit: "tokens",
      limit: 100,
    });
    expect(budget.statusCode).toBe(201);
    fake.enqueue({ text: "never asked" });
    worker = new KilnWorker({
      server: `http://127.0.0.1:${port}`,
      token: WORKER_TOKEN,
      concurrency: 1,
      driver: kiln.driver,
      workDir,
      log: pino({ level: process.env.KILN_TEST_LOG ?? "silent" }) as FastifyBaseLogger,
    });
    await worker.start();
    const started = await owner.client.post(`/api/orgs/${org}/projects/${project.slug}/jobs`, {
      kind: "implement",
      instructions: "Add a file",
    });
    expect(started.statusCode).toBe(201);
    const end = Date.now() + 60_000;
    let job: Job | undefined;
    while (Date.now() < end) {
      job = (await owner.client.get(`/api/orgs/${org}/jobs/${started.json().id}`)).json();
      if (job && ["completed", "failed", "cancelled"].includes(job.state)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(job).toMatchObject({ state: "failed", failure: { code: "budget_exceeded" } });
    expect(job!.failure!.message).toMatch(/per-run model budget is used up.*admin can raise/);
    expect(fake.requests.filter((r) => r.method === "POST")).toHaveLength(0);
  }, 90_000);
});
