import { randomBytes } from "node:crypto";
import type { AddressInfo } from "node:net";
import {
  ACCESS_COOKIE,
  JOB_TOKEN_PREFIX,
  type Job,
  WORKER_CLOSE,
  WORKER_MAX_MESSAGE_BYTES,
} from "@kiln/protocol";
import { eq, sql } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { jobs as jobsTable, orgs } from "../db/schema-shared.ts";
import type { OrgRow } from "../orgs/service.ts";
import type { TestClient } from "../testing/client.ts";
import { type SignedUp, startTestKiln, type TestKiln } from "../testing/harness.ts";
import { isolatedDatabase, TestWorker } from "../testing/jobs.ts";
import { readSse } from "../testing/sse.ts";

/** Workers over a real WebSocket: dispatch, step reports, completion, cancel, leases, resume, tenancy. */

const INSTANCE_TOKEN = `instance-${randomBytes(24).toString("hex")}`;
const RESULT = { summary: "done", branch: "kiln/job-x", commit: "b".repeat(40) };

interface Tenant {
  owner: SignedUp;
  org: OrgRow;
  project: { id: string; slug: string };
  token: string;
  base: string;
}

let isolated: Awaited<ReturnType<typeof isolatedDatabase>>;
let kiln: TestKiln;
let socketUrl: string;
let httpBase: string;
let a: Tenant;
let b: Tenant;
const opened: TestWorker[] = [];
const finished: Job[] = [];

beforeAll(async () => {
  isolated = await isolatedDatabase();
  kiln = await startTestKiln({
    database: isolated.database,
    env: { KILN_WORKER_TOKEN: INSTANCE_TOKEN, KILN_JOB_RETRY_BASE_SECONDS: "0", KILN_JOB_SWEEP_SECONDS: "0" },
  });
  kiln.services.jobs.onFinished((job) => {
    finished.push(job);
  });
  await kiln.app.listen({ port: 0, host: "127.0.0.1" });
  const { port } = kiln.app.server.address() as AddressInfo;
  socketUrl = `ws://127.0.0.1:${port}/api/workers/socket`;
  httpBase = `http://127.0.0.1:${port}`;
  a = await tenant();
  b = await tenant();
}, 60_000);

afterEach(async () => {
  await Promise.all(opened.splice(0).map((w) => w.terminate()));
  // Whatever a test left queued would be handed to the next test's workers.
  for (const t of [a, b]) {
    for (const job of await kiln.services.jobs.list(t.org, { state: "queued", limit: 200 })) {
      await kiln.services.jobs.cancel(t.org, job.id, null);
    }
  }
});

afterAll(async () => {
  await kiln?.stop();
  await isolated?.drop();
});

async function tenant(): Promise<Tenant> {
  const owner = await kiln.signup();
  const slug = owner.personalOrg.slug;
  const project = await owner.client.post(`/api/orgs/${slug}/projects`, { name: "Work" });
  expect(project.statusCode).toBe(201);
  const token = await owner.client.post(`/api/orgs/${slug}/workers/tokens`, { name: "ci" });
  expect(token.statusCode).toBe(201);
  const [org] = await kiln.database.db.select().from(orgs).where(eq(orgs.id, owner.personalOrg.orgId));
  return {
    owner,
    org: org!,
    project: { id: project.json().id, slug: project.json().slug },
    token: token.json().token,
    base: `/api/orgs/${slug}`,
  };
}

async function connect(token: string): Promise<TestWorker> {
  const w = await TestWorker.connect(socketUrl, token);
  opened.push(w);
  return w;
}

async function startJob(t: Tenant, instructions = "build it"): Promise<Job> {
  const res = await t.owner.client.post(`${t.base}/projects/${t.project.slug}/jobs`, {
    kind: "implement",
    instructions,
  });
  expect(res.statusCode).toBe(201);
  return res.json();
}

async function jobOf(t: Tenant, id: string): Promise<Job> {
  return (await t.owner.client.get(`${t.base}/jobs/${id}`)).json();
}

/** A registered worker of `t` running a fresh job of `t` (dispatched to it, confirmed by a heartbeat). */
async function running(t: Tenant): Promise<{ w: TestWorker; workerId: string; job: Job }> {
  const w = await connect(t.token);
  const { workerId } = await w.register();
  const job = await startJob(t);
  await w.waitFor("job", (m) => m.job.id === job.id);
  w.send({ type: "heartbeat", jobIds: [job.id] });
  await expect.poll(async () => (await jobOf(t, job.id)).state).toBe("running");
  return { w, workerId, job };
}

function cookieOf(client: TestClient): string {
  return `${ACCESS_COOKIE}=${client.cookies.get(ACCESS_COOKIE)!.value}`;
}

describe("connecting", () => {
  it("needs a worker token, refused as plain HTTP before the upgrade", async () => {
    const refused = async (token: string | undefined) => {
      const err = await TestWorker.connect(socketUrl, token).then(
        (w) => {
          opened.push(w);
          return { status: 101, body: "" };
        },
        (e: { status: number; body: string }) => e,
      );
      return [err.status, err.body ? JSON.parse(err.body).error.code : undefined];
    };
    expect(await refused(undefined)).toEqual([401, "unauthenticated"]);
    expect(await refused("kiln_wrk_nope")).toEqual([401, "token_invalid"]);
    expect(await refused(`${INSTANCE_TOKEN}x`)).toEqual([401, "token_invalid"]);
    const pat = await a.owner.client.post("/api/auth/tokens", { name: "mine" });
    expect(await refused(pat.json().token)).toEqual([401, "token_invalid"]);
    expect(await refused(a.owner.client.cookies.get(ACCESS_COOKIE)!.value)).toEqual([401, "token_invalid"]);
    // A browser's session cookie opens nothing here.
    const viaCookie = await kiln.app.inject({
      method: "GET",
      url: "/api/workers/socket",
      headers: { cookie: cookieOf(a.owner.client) },
    });
    expect([viaCookie.statusCode, viaCookie.json().error.code]).toEqual([401, "unauthenticated"]);
    const plain = await kiln.app.inject({
      method: "GET",
      url: "/api/workers/socket",
      headers: { authorization: `Bearer ${a.token}` },
    });
    expect([plain.statusCode, plain.json().error.code]).toEqual([426, "upgrade_required"]);
  });

  it("a revoked token's workers are cut off, and it opens no new socket", async () => {
    const created = await a.owner.client.post(`${a.base}/workers/tokens`, { name: "temp" });
    const w = await connect(created.json().token);
    await w.register();
    const revoked = await a.owner.client.delete(`${a.base}/workers/tokens/${created.json().id}`);
    expect(revoked.statusCode).toBe(200);
    expect((await w.closed).code).toBe(WORKER_CLOSE.revoked);
    await expect(TestWorker.connect(socketUrl, created.json().token)).rejects.toMatchObject({ status: 401 });
  });

  it("a second connection of the same worker replaces the first", async () => {
    const first = await connect(a.token);
    const { workerId } = await first.register();
    const second = await connect(a.token);
    expect((await second.register({ workerId })).workerId).toBe(workerId);
    expect((await first.closed).code).toBe(WORKER_CLOSE.replaced);
    const listed = (await a.owner.client.get(`${a.base}/workers`)).json();
    expect(listed).toContainEqual(expect.objectContaining({ id: workerId, scope: "org", concurrency: 1 }));
    expect(listed.filter((x: { id: string }) => x.id === workerId)).toHaveLength(1);
  });
});

describe("a job's life over the socket", () => {
  it("is pushed to a free worker, runs, reports steps and completes; a repeated complete gets the same ack", async () => {
    const w = await connect(a.token);
    const registered = await w.register({ concurrency: 2 });
    expect(registered).toMatchObject({ protocol: 2, jobs: [] });
    expect(registered.heartbeatMs).toBeLessThan(registered.leaseMs);
    const job = await startJob(a);
    const pushed = await w.waitFor("job", (m) => m.job.id === job.id);
    expect(pushed).toMatchObject({
      attempt: 1,
      branch: `kiln/job-${job.id}`,
      repoUrl: `http://localhost:4000/git/${a.org.id}/${a.project.id}.git`,
      modelProxyUrl: "http://localhost:4000/v1",
      job: { id: job.id, state: "dispatched", instructions: "build it", workerId: registered.workerId },
    });
    expect(pushed.jobToken.startsWith(JOB_TOKEN_PREFIX)).toBe(true);
    expect(await kiln.services.jobs.verifyJobToken(pushed.jobToken)).toEqual({
      orgId: a.org.id,
      projectId: a.project.id,
      jobId: job.id,
      taskId: null,
      // Who the job runs for (named in the audit log as whom its agent acted for).
      requestedBy: a.owner.user.id,
      branch: `kiln/job-${job.id}`,
    });

    w.send({ type: "heartbeat", jobIds: [job.id] });
    await expect.poll(async () => (await jobOf(a, job.id)).state).toBe("running");
    for (const status of ["started", "done"] as const) {
      w.send({
        type: "job-event",
        jobId: job.id,
        attempt: 1,
        event: { type: "step", name: "clone", status },
      });
    }
    const since = w.received.length;
    w.send({ type: "complete", jobId: job.id, attempt: 1, result: RESULT });
    w.send({ type: "complete", jobId: job.id, attempt: 1, result: RESULT });
    await w.waitFor("ack", () => w.received.slice(since).filter((m) => m.type === "ack").length === 2, since);
    const acks = w.received.slice(since).filter((m) => m.type === "ack");
    expect(acks).toEqual([
      { type: "ack", of: "complete", jobId: job.id, attempt: 1, state: "completed" },
      { type: "ack", of: "complete", jobId: job.id, attempt: 1, state: "completed" },
    ]);
    expect(await jobOf(a, job.id)).toMatchObject({ state: "completed", result: RESULT, attempt: 1 });
    const events = (await a.owner.client.get(`${a.base}/jobs/${job.id}/events`)).json();
    expect(
      events.map(
        (e: { event: { type: string; state?: string; status?: string } }) => e.event.state ?? e.event.status,
      ),
    ).toEqual(["queued", "dispatched", "running", "started", "done", "completed"]);
    await expect.poll(() => finished.filter((j) => j.id === job.id).length).toBe(1);
    expect(await kiln.services.jobs.verifyJobToken(pushed.jobToken)).toBeNull();
  });

  it("streams its events by SSE, replaying after Last-Event-ID, until it ends", async () => {
    const w = await connect(a.token);
    await w.register();
    const job = await startJob(a);
    await w.waitFor("job", (m) => m.job.id === job.id);
    w.send({
      type: "job-event",
      jobId: job.id,
      attempt: 1,
      event: { type: "log", level: "info", message: "one" },
    });
    const url = `${httpBase}${a.base}/jobs/${job.id}/events`;
    const headers = { cookie: cookieOf(a.owner.client) };
    const first = await readSse(url, {
      headers,
      until: (events) =>
        events.some((e) => (e.data as { event: { message?: string } }).event.message === "one"),
    });
    expect(first.status).toBe(200);
    expect(first.ended).toBe(false);
    const lastSeen = first.events.at(-1)!.id!;
    expect(first.events.map((e) => e.id)).toEqual(first.events.map((_, i) => i + 1));

    // The stream is down (a reload); the job goes on.
    w.send({
      type: "job-event",
      jobId: job.id,
      attempt: 1,
      event: { type: "log", level: "info", message: "two" },
    });
    const resumed = readSse(url, { headers: { ...headers, "last-event-id": String(lastSeen) } });
    w.send({ type: "complete", jobId: job.id, attempt: 1, result: RESULT });
    const rest = await resumed;
    expect(rest.ended).toBe(true);
    expect(rest.events[0]!.id).toBe(lastSeen + 1);
    expect(rest.events.map((e) => e.event)).toEqual(["log", "state"]);
    expect(rest.events.at(-1)!.data).toMatchObject({ event: { type: "state", state: "completed" } });
    // A finished job's stream replays and ends at once.
    const replay = await readSse(url, { headers: { ...headers, "last-event-id": "0" } });
    expect(replay.ended).toBe(true);
    expect(replay.events.map((e) => e.id)).toEqual([...first.events, ...rest.events].map((e) => e.id));
  });

  it("a cancel from the studio reaches the worker; its acknowledgement ends the job", async () => {
    const { w, job } = await running(a);
    const cancelled = await a.owner.client.post(`${a.base}/jobs/${job.id}/cancel`);
    expect(cancelled.json()).toMatchObject({ state: "running", cancelRequested: true });
    expect(await w.waitFor("cancel")).toEqual({
      type: "cancel",
      jobId: job.id,
      attempt: 1,
      reason: "requested",
    });
    const since = w.received.length;
    w.send({ type: "cancel-ack", jobId: job.id, attempt: 1 });
    expect(await w.waitFor("ack", () => true, since)).toMatchObject({ of: "cancel-ack", state: "cancelled" });
    expect((await jobOf(a, job.id)).state).toBe("cancelled");
  });
});

describe("faults", () => {
  it("a vanished worker's job goes back after its lease and is completed once by another; the first is refused", async () => {
    const { w: first, workerId, job } = await running(a);
    await first.terminate();

    const second = await connect(a.token);
    await second.register();
    await kiln.database.db
      .update(jobsTable)
      .set({ leaseExpiresAt: sql`now() - interval '1 second'` })
      .where(eq(jobsTable.id, job.id));
    await kiln.services.jobs.sweep();
    const again = await second.waitFor("job", (m) => m.job.id === job.id);
    expect(again.attempt).toBe(2);
    second.send({ type: "complete", jobId: job.id, attempt: 2, result: RESULT });
    await second.waitFor("ack");

    // The first worker comes back, still believing in attempt 1.
    const back = await connect(a.token);
    const since = back.received.length;
    const resumed = await back.register({ workerId, jobs: [{ jobId: job.id, attempt: 1 }] });
    expect(resumed).toMatchObject({ workerId, jobs: [] });
    back.send({ type: "heartbeat", jobIds: [job.id] });
    expect(await back.waitFor("cancel", () => true, since)).toMatchObject({
      jobId: job.id,
      reason: "lease_lost",
    });
    back.send({ type: "complete", jobId: job.id, attempt: 1, result: { ...RESULT, summary: "late" } });
    expect(await back.waitFor("error", () => true, since)).toMatchObject({
      code: "stale_attempt",
      ref: { type: "complete", jobId: job.id },
    });
    const final = await jobOf(a, job.id);
    expect(final).toMatchObject({ state: "completed", attempt: 2, result: RESULT });
    await expect.poll(() => finished.filter((j) => j.id === job.id).length).toBe(1);
  });

  it("a connection dropped during complete: the worker resumes and completes again, with no duplicate", async () => {
    const { w, workerId, job } = await running(a);
    // The complete leaves; the ack never arrives.
    w.send({ type: "complete", jobId: job.id, attempt: 1, result: RESULT });
    await w.terminate();

    const back = await connect(a.token);
    const registered = await back.register({ workerId, jobs: [{ jobId: job.id, attempt: 1 }] });
    expect(registered.workerId).toBe(workerId);
    const since = back.received.length;
    back.send({ type: "complete", jobId: job.id, attempt: 1, result: RESULT });
    expect(await back.waitFor("ack", () => true, since)).toMatchObject({
      of: "complete",
      state: "completed",
    });
    const events = (await a.owner.client.get(`${a.base}/jobs/${job.id}/events`)).json();
    expect(events.filter((e: { event: { state?: string } }) => e.event.state === "completed")).toHaveLength(
      1,
    );
    await expect.poll(() => finished.filter((j) => j.id === job.id).length).toBe(1);
  });

  it("a worker that reconnects keeps the jobs it lists and gives back the ones it lost", async () => {
    const w = await connect(a.token);
    const { workerId } = await w.register({ concurrency: 2 });
    const kept = await startJob(a, "keep");
    const lost = await startJob(a, "lose");
    await w.waitFor("job", (m) => m.job.id === kept.id);
    await w.waitFor("job", (m) => m.job.id === lost.id);
    await w.terminate();

    const back = await connect(a.token);
    const registered = await back.register({
      workerId,
      concurrency: 2,
      jobs: [{ jobId: kept.id, attempt: 1 }],
    });
    expect(registered.jobs).toEqual([
      { jobId: kept.id, attempt: 1, state: "running", cancelRequested: false },
    ]);
    // The lost one went back to the queue at once and, a slot being free, came straight back as attempt 2.
    expect(await back.waitFor("job", (m) => m.job.id === lost.id)).toMatchObject({ attempt: 2 });
    expect((await jobOf(a, lost.id)).failure).toMatchObject({ code: "worker_lost" });
    back.send({ type: "complete", jobId: kept.id, attempt: 1, result: RESULT });
    back.send({ type: "fail", jobId: lost.id, attempt: 2, code: "agent_failed", message: "no" });
    await back.waitFor("ack", (m) => m.jobId === lost.id);
    expect((await jobOf(a, kept.id)).state).toBe("completed");
    expect((await jobOf(a, lost.id)).state).toBe("failed");
  });

  it("a server restart: the worker reconnects to the new server and finishes its job", async () => {
    const { w, workerId, job } = await running(a);
    // A second server on the same database stands in for the restarted one.
    const next = await startTestKiln({
      database: isolated.database,
      env: { KILN_WORKER_TOKEN: INSTANCE_TOKEN, KILN_JOB_SWEEP_SECONDS: "0" },
    });
    try {
      await next.app.listen({ port: 0, host: "127.0.0.1" });
      const { port } = next.app.server.address() as AddressInfo;
      await w.terminate();
      const moved = await TestWorker.connect(`ws://127.0.0.1:${port}/api/workers/socket`, a.token);
      opened.push(moved);
      expect((await moved.register({ workerId, jobs: [{ jobId: job.id, attempt: 1 }] })).jobs).toHaveLength(
        1,
      );
      moved.send({ type: "complete", jobId: job.id, attempt: 1, result: RESULT });
      expect(await moved.waitFor("ack")).toMatchObject({ state: "completed" });
    } finally {
      await next.stop();
    }
  });
});

describe("tenancy", () => {
  it("an org's worker never gets, nor reports on, another org's jobs", async () => {
    const w = await connect(a.token);
    await w.register({ concurrency: 3 });
    const theirs = await startJob(b);
    const mine = await startJob(a);
    await w.waitFor("job", (m) => m.job.id === mine.id);
    expect(w.received.some((m) => m.type === "job" && m.job.id === theirs.id)).toBe(false);
    const since = w.received.length;
    const foreign = [
      { type: "complete", jobId: theirs.id, attempt: 1, result: RESULT },
      { type: "fail", jobId: theirs.id, attempt: 1, code: "agent_failed", message: "x" },
      { type: "cancel-ack", jobId: theirs.id, attempt: 1 },
      {
        type: "job-event",
        jobId: theirs.id,
        attempt: 1,
        event: { type: "log", level: "info", message: "x" },
      },
    ] as const;
    for (const m of foreign) w.send(m);
    w.send({ type: "heartbeat", jobIds: [theirs.id] });
    await w.waitFor("cancel", (m) => m.jobId === theirs.id, since);
    const errors = w.received.slice(since).filter((m) => m.type === "error");
    expect(errors.map((e) => e.type === "error" && [e.code, e.ref?.type])).toEqual(
      foreign.map((m) => ["job_not_found", m.type]),
    );
    expect(await jobOf(b, theirs.id)).toMatchObject({ state: "queued", attempt: 0 });
    expect((await b.owner.client.get(`${b.base}/jobs/${theirs.id}/events`)).json()).toHaveLength(1);
  });

  it("the instance's own worker takes every org's jobs", async () => {
    const w = await connect(INSTANCE_TOKEN);
    await w.register({ concurrency: 4 });
    const fromA = await startJob(a);
    const fromB = await startJob(b);
    await w.waitFor("job", (m) => m.job.id === fromA.id);
    await w.waitFor("job", (m) => m.job.id === fromB.id);
    const listed = (await b.owner.client.get(`${b.base}/workers`)).json();
    expect(listed).toEqual([expect.objectContaining({ scope: "instance", activeJobs: 1 })]);
  });
});

describe("hostile input", () => {
  it("answers garbage with an error message and stays usable", async () => {
    const w = await connect(a.token);
    const errorsAfter = async (send: () => void) => {
      const since = w.received.length;
      send();
      return w.waitFor("error", () => true, since);
    };
    expect(await errorsAfter(() => w.send({ type: "heartbeat", jobIds: [] }))).toMatchObject({
      code: "worker_not_registered",
    });
    expect(await errorsAfter(() => w.sendRaw("{not json"))).toMatchObject({ code: "invalid_json" });
    expect(await errorsAfter(() => w.sendRaw(Buffer.from([1, 2, 3]), true))).toMatchObject({
      code: "bad_request",
    });
    for (const garbage of [
      { type: "launch-missiles" },
      { type: "register", name: "x", concurrency: 1e9, version: "1" },
      { type: "register", name: "x\u0000", concurrency: 1, version: "1" },
      { type: "register", name: "x", concurrency: 1, version: "../../etc/passwd" },
      { type: "complete", jobId: "../../../etc/passwd", attempt: 1, result: RESULT },
      { type: "complete", jobId: "00000000-0000-4000-8000-000000000000", attempt: 1, result: { summary: 1 } },
      {
        type: "heartbeat",
        jobIds: Array.from({ length: 1000 }, () => "00000000-0000-4000-8000-000000000000"),
      },
      {
        type: "job-event",
        jobId: "00000000-0000-4000-8000-000000000000",
        attempt: 1,
        event: { type: "state", state: "completed" },
      },
      [],
      "register",
      null,
    ]) {
      expect(
        await errorsAfter(() => w.sendRaw(JSON.stringify(garbage))),
        JSON.stringify(garbage).slice(0, 80),
      ).toMatchObject({
        code: "validation_failed",
      });
    }
    expect(
      await errorsAfter(() => w.sendRaw('{"type":"claim","__proto__":{"polluted":true}}')),
    ).toMatchObject({ code: "validation_failed" });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();

    await w.register();
    expect(
      await errorsAfter(() => w.send({ type: "register", name: "again", concurrency: 1, version: "1" })),
    ).toMatchObject({
      code: "bad_request",
    });
    expect(
      await errorsAfter(() =>
        w.send({
          type: "complete",
          jobId: "00000000-0000-4000-8000-000000000000",
          attempt: 1,
          result: RESULT,
        }),
      ),
    ).toMatchObject({ code: "job_not_found" });
    // Still a working worker: it gets a job.
    const job = await startJob(a);
    await w.waitFor("job", (m) => m.job.id === job.id);
  });

  it("closes the socket on an oversized message (1009)", async () => {
    const w = await connect(a.token);
    await w.register();
    w.sendRaw(JSON.stringify({ type: "claim", pad: "x".repeat(WORKER_MAX_MESSAGE_BYTES) }));
    expect((await w.closed).code).toBe(1009);
  });
});
