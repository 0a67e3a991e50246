import { randomBytes } from "node:crypto";
import type { AddressInfo } from "node:net";
import type { FastifyBaseLogger } from "fastify";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTestDatabase, type SignedUp, startTestKiln, type TestKiln } from "../testing/harness.ts";
import { isolatedDatabase, TestWorker } from "../testing/jobs.ts";
import { type JobSignal, JobSignals } from "./signals.ts";

/**
 * Several servers on one database: the studio talks to one, the worker to another. Signals travel through
 * PostgreSQL LISTEN/NOTIFY (PGlite too), so a cancel or a new job reaches the worker wherever it is connected.
 */

let isolated: Awaited<ReturnType<typeof isolatedDatabase>>;
let front: TestKiln;
let back: TestKiln;
let owner: SignedUp;
let socketUrl: string;
let token: string;
let base: string;
let project: string;

beforeAll(async () => {
  isolated = await isolatedDatabase();
  const env = { KILN_JOB_SWEEP_SECONDS: "0", KILN_WORKER_TOKEN: randomBytes(24).toString("hex") };
  front = await startTestKiln({ database: isolated.database, env });
  back = await startTestKiln({ database: isolated.database, env });
  await back.app.listen({ port: 0, host: "127.0.0.1" });
  socketUrl = `ws://127.0.0.1:${(back.app.server.address() as AddressInfo).port}/api/workers/socket`;
  owner = await front.signup();
  base = `/api/orgs/${owner.personalOrg.slug}`;
  project = (await owner.client.post(`${base}/projects`, { name: "Two" })).json().slug;
  token = (await owner.client.post(`${base}/workers/tokens`, { name: "remote" })).json().token;
}, 60_000);
afterAll(async () => {
  await front?.stop();
  await back?.stop();
  await isolated?.drop();
});

describe("signals", () => {
  it("reach a listener of another server through the database, and skip their own sender", async () => {
    const database = await openTestDatabase();
    const silent = pino({ level: "silent" }) as FastifyBaseLogger;
    const one = new JobSignals(database, silent);
    const two = new JobSignals(database, silent);
    try {
      await one.start();
      await two.start();
      const gotByTwo: JobSignal[] = [];
      const gotByOne: JobSignal[] = [];
      two.on((s) => gotByTwo.push(s));
      one.on((s) => gotByOne.push(s));
      one.publish({ t: "events", jobId: "j1" });
      await expect.poll(() => gotByTwo, { timeout: 10_000 }).toContainEqual({ t: "events", jobId: "j1" });
      // In-process delivery is immediate; the NOTIFY echo of one's own signal is not delivered twice.
      expect(gotByOne.filter((s) => s.t === "events")).toEqual([{ t: "events", jobId: "j1" }]);
    } finally {
      await one.close();
      await two.close();
      await database.close();
    }
  });
});

describe("a worker on another server", () => {
  it("gets a job started through this one, and the cancel from this one", async () => {
    const w = await TestWorker.connect(socketUrl, token);
    try {
      await w.register();
      const started = await owner.client.post(`${base}/projects/${project}/jobs`, {
        kind: "implement",
        instructions: "across servers",
      });
      const job = started.json();
      await w.waitFor("job", (m) => m.job.id === job.id);
      w.send({ type: "heartbeat", jobIds: [job.id] });
      await expect
        .poll(async () => (await owner.client.get(`${base}/jobs/${job.id}`)).json().state)
        .toBe("running");
      expect((await owner.client.post(`${base}/jobs/${job.id}/cancel`)).json().cancelRequested).toBe(true);
      expect(await w.waitFor("cancel", (m) => m.jobId === job.id)).toMatchObject({ reason: "requested" });
      w.send({ type: "cancel-ack", jobId: job.id, attempt: 1 });
      await expect
        .poll(async () => (await owner.client.get(`${base}/jobs/${job.id}`)).json().state)
        .toBe("cancelled");
    } finally {
      await w.terminate();
    }
  });
});
