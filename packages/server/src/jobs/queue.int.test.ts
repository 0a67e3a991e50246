import { randomUUID } from "node:crypto";
import type { Job, JobResult } from "@kiln/protocol";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jobs as jobsTable, orgs, workers } from "../db/schema-shared.ts";
import type { KilnError } from "../errors/errors.ts";
import type { OrgRow } from "../orgs/service.ts";
import { startTestKiln, type TestKiln } from "../testing/harness.ts";
import { isolatedDatabase } from "../testing/jobs.ts";
import { JobQueue, type WorkerScope } from "./queue.ts";
import type { JobService } from "./service.ts";

/** The queue's state machine on the real database: claims, leases, retries, cancels, idempotent ends. */

let isolated: Awaited<ReturnType<typeof isolatedDatabase>>;
let kiln: TestKiln;
let jobs: JobService;
let org: OrgRow;
let projectId: string;
let other: { org: OrgRow; projectId: string };
const finished: Job[] = [];

const RESULT: JobResult = { summary: "did it", branch: "kiln/job-x", commit: "a".repeat(40) };

beforeAll(async () => {
  isolated = await isolatedDatabase();
  kiln = await startTestKiln({
    database: isolated.database,
    env: { KILN_JOB_RETRY_BASE_SECONDS: "0", KILN_JOB_SWEEP_SECONDS: "0" },
  });
  jobs = kiln.services.jobs;
  jobs.onFinished((job) => {
    finished.push(job);
  });
  const makeTenant = async () => {
    const owner = await kiln.signup();
    const project = await owner.client.post(`/api/orgs/${owner.personalOrg.slug}/projects`, {
      name: "Queue",
    });
    expect(project.statusCode).toBe(201);
    const [row] = await kiln.database.db.select().from(orgs).where(eq(orgs.id, owner.personalOrg.orgId));
    return { org: row!, projectId: project.json().id as string };
  };
  ({ org, projectId } = await makeTenant());
  other = await makeTenant();
}, 60_000);
afterAll(async () => {
  await kiln?.stop();
  await isolated?.drop();
});

async function worker(orgId: string | null = org.id): Promise<WorkerScope> {
  const id = randomUUID();
  await kiln.database.db.insert(workers).values({ id, orgId, name: "w", version: "1", concurrency: 4 });
  return { workerId: id, orgId };
}

async function start(kind: "implement" | "review" | "fix" = "implement", target = { org, projectId }) {
  const { jobId } = await jobs.startJob({
    org: target.org,
    projectId: target.projectId,
    taskId: null,
    kind,
    requestedBy: null,
    instructions: `do ${randomUUID()}`,
  });
  return jobId;
}

/** Claims until `jobId` comes out (older queued jobs of this file are finished out of the way). */
async function claimJob(scope: WorkerScope, jobId: string) {
  for (let i = 0; i < 100; i++) {
    const [claimed] = await jobs.queue.claim(scope, 1);
    if (!claimed) break;
    if (claimed.job.id === jobId) return claimed;
    await jobs.queue.fail(scope, claimed.job.id, claimed.attempt, "agent_failed", "not this one");
  }
  throw new Error(`job ${jobId} was not claimable`);
}

async function expireLease(jobId: string) {
  await kiln.database.db
    .update(jobsTable)
    .set({ leaseExpiresAt: sql`now() - interval '1 second'` })
    .where(eq(jobsTable.id, jobId));
}

async function states(jobId: string) {
  const events = await jobs.events(org, jobId, 0);
  return events.flatMap((e) => (e.event.type === "state" ? [`${e.attempt}:${e.event.state}`] : []));
}

const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => "resolved",
    (err: KilnError) => err.code,
  );

describe("claiming", () => {
  it("two claimers, one job: exactly one wins", async () => {
    await drain();
    const jobId = await start();
    const [a, b] = [await worker(), await worker()];
    const results = await Promise.all([jobs.queue.claim(a, 1), jobs.queue.claim(b, 1)]);
    const won = results.flat();
    expect(won.map((c) => c.job.id)).toEqual([jobId]);
    const job = await jobs.get(org, jobId);
    expect(job).toMatchObject({ state: "dispatched", attempt: 1 });
    expect([a.workerId, b.workerId]).toContain(job.workerId);
  });

  it("many jobs, many claimers at once: every job is handed out exactly once", async () => {
    await drain();
    const ids = new Set<string>();
    for (let i = 0; i < 24; i++) ids.add(await start());
    const claimers = await Promise.all(Array.from({ length: 6 }, () => worker()));
    const got: string[] = [];
    await Promise.all(
      claimers.map(async (scope) => {
        for (;;) {
          const claimed = await jobs.queue.claim(scope, 2);
          if (claimed.length === 0) return;
          got.push(...claimed.map((c) => c.job.id));
        }
      }),
    );
    expect(got.length).toBe(ids.size);
    expect(new Set(got)).toEqual(ids);
    for (const id of ids) expect((await jobs.get(org, id)).attempt).toBe(1);
  });

  it("an org's worker only ever sees that org's jobs; the instance's worker sees every org's", async () => {
    await drain();
    const theirs = await start("implement", other);
    const mine = await worker(org.id);
    expect(await jobs.queue.claim(mine, 5)).toEqual([]);
    const instance = await worker(null);
    expect((await jobs.queue.claim(instance, 5)).map((c) => c.job.id)).toEqual([theirs]);
  });
});

describe("leases", () => {
  it("a lease that runs out puts the job back (attempt counted); another worker completes it once", async () => {
    const jobId = await start();
    const [first, second] = [await worker(), await worker()];
    const one = await claimJob(first, jobId);
    await jobs.queue.heartbeat(first, [jobId]);
    await jobs.queue.record(first, jobId, one.attempt, [{ type: "log", level: "info", message: "working" }]);
    await expireLease(jobId);
    expect(await jobs.sweep()).toBe(1);
    expect(await jobs.get(org, jobId)).toMatchObject({
      state: "queued",
      attempt: 1,
      workerId: null,
      failure: { code: "worker_lost" },
    });

    const two = await claimJob(second, jobId);
    expect(two.attempt).toBe(2);
    const done = await jobs.queue.complete(second, jobId, 2, RESULT);
    expect(done).toMatchObject({ changed: true, job: { state: "completed", result: RESULT } });
    // The first worker comes back and reports its (stale) attempt: refused, nothing changes.
    expect(await codeOf(jobs.queue.complete(first, jobId, 1, RESULT))).toBe("stale_attempt");
    expect(
      await codeOf(jobs.queue.record(first, jobId, 1, [{ type: "log", level: "info", message: "x" }])),
    ).toBe("stale_attempt");
    expect(await states(jobId)).toEqual([
      "0:queued",
      "1:dispatched",
      "1:running",
      "1:queued",
      "2:dispatched",
      "2:completed",
    ]);
  });

  it("a stale worker's heartbeat is told to stop; the holder's renews its lease and marks it running", async () => {
    const jobId = await start();
    const [holder, stranger] = [await worker(), await worker()];
    const claimed = await claimJob(holder, jobId);
    const before = (await jobs.get(org, jobId)).leaseExpiresAt!;
    const beat = await jobs.queue.heartbeat(holder, [jobId]);
    expect(beat.cancels).toEqual([]);
    expect(beat.transitions[0]!.job.state).toBe("running");
    expect(Date.parse(beat.transitions[0]!.job.leaseExpiresAt!)).toBeGreaterThanOrEqual(Date.parse(before));
    const foreign = await jobs.queue.heartbeat(stranger, [jobId]);
    expect(foreign.cancels).toEqual([
      { workerId: stranger.workerId, jobId, attempt: 1, reason: "lease_lost" },
    ]);
    expect(foreign.transitions).toEqual([]);
    await jobs.queue.complete(holder, jobId, claimed.attempt, RESULT);
  });

  it("no job stays running: one over the time limit ends with `timeout` and its worker is told", async () => {
    const jobId = await start();
    const scope = await worker();
    await claimJob(scope, jobId);
    await jobs.queue.heartbeat(scope, [jobId]);
    await kiln.database.db
      .update(jobsTable)
      .set({ startedAt: sql`now() - interval '10 days'` })
      .where(eq(jobsTable.id, jobId));
    const swept = await jobs.queue.sweep();
    const mine = swept.find((t) => t.job.id === jobId)!;
    expect(mine.job).toMatchObject({ state: "queued", failure: { code: "timeout" } });
    expect(mine.push).toEqual({ workerId: scope.workerId, jobId, attempt: 1, reason: "timeout" });
  });
});

describe("ending an attempt", () => {
  it("complete is idempotent: the same attempt again gets the stored outcome, even with another result", async () => {
    const jobId = await start();
    const scope = await worker();
    const { attempt } = await claimJob(scope, jobId);
    const first = await jobs.queue.complete(scope, jobId, attempt, RESULT);
    const again = await jobs.queue.complete(scope, jobId, attempt, { ...RESULT, summary: "different" });
    expect(first.changed).toBe(true);
    expect(again).toMatchObject({ changed: false, job: { state: "completed", result: RESULT } });
    expect((await jobs.events(org, jobId, 0)).length).toBe((await states(jobId)).length);
    expect(await codeOf(jobs.queue.fail(scope, jobId, attempt, "agent_failed", "late"))).toBe(
      "job_not_active",
    );
  });

  it("retries transient failures up to max attempts, never permanent ones", async () => {
    const jobId = await start();
    const scope = await worker();
    for (const attempt of [1, 2]) {
      const claimed = await claimJob(scope, jobId);
      expect(claimed.attempt).toBe(attempt);
      const failed = await jobs.queue.fail(scope, jobId, attempt, "provider_unavailable", "503");
      expect(failed.job).toMatchObject({ state: "queued", failure: { code: "provider_unavailable" } });
      // The same report again (a retry after a network drop) changes nothing.
      expect((await jobs.queue.fail(scope, jobId, attempt, "provider_unavailable", "503")).changed).toBe(
        false,
      );
    }
    await claimJob(scope, jobId);
    const last = await jobs.queue.fail(scope, jobId, 3, "worker_error", "crashed");
    expect(last.job).toMatchObject({ state: "failed", attempt: 3, failure: { code: "worker_error" } });

    const permanent = await start();
    await claimJob(scope, permanent);
    const agent = await jobs.queue.fail(scope, permanent, 1, "agent_failed", "could not do it");
    expect(agent.job).toMatchObject({ state: "failed", attempt: 1, failure: { code: "agent_failed" } });
  });

  it("waits before a retry (backoff), so a failing provider is not hammered", async () => {
    const slow = new JobQueue(kiln.database, { ...jobs.queue.options, retryBaseMs: 60_000 });
    const jobId = await start();
    const scope = await worker();
    await claimJob(scope, jobId);
    const failed = await slow.fail(scope, jobId, 1, "provider_rate_limited", "429");
    expect(failed.job.state).toBe("queued");
    expect(Date.parse(failed.job.nextAttemptAt) - Date.parse(failed.job.updatedAt)).toBeGreaterThanOrEqual(
      59_000,
    );
    const claimed = await jobs.queue.claim(scope, 50);
    expect(claimed.map((c) => c.job.id)).not.toContain(jobId);
    await jobs.cancel(org, jobId, null);
  });
});

describe("cancelling", () => {
  it("a queued job is cancelled at once", async () => {
    const jobId = await start();
    const job = await jobs.cancel(org, jobId, null);
    expect(job).toMatchObject({ state: "cancelled", failure: { code: "cancelled" } });
    expect(await jobs.cancel(org, jobId, null)).toMatchObject({ state: "cancelled" });
    await expect
      .poll(() => finished.filter((j) => j.id === jobId).map((j) => j.state))
      .toEqual(["cancelled"]);
  });

  it("a running job is asked; its worker acknowledges; repeated acks change nothing", async () => {
    const jobId = await start();
    const scope = await worker();
    const { attempt } = await claimJob(scope, jobId);
    await jobs.queue.heartbeat(scope, [jobId]);
    const asked = await jobs.cancel(org, jobId, null);
    expect(asked).toMatchObject({ state: "running", cancelRequested: true });
    // A heartbeat repeats the request, for a worker that missed the push.
    expect((await jobs.queue.heartbeat(scope, [jobId])).cancels).toEqual([
      { workerId: scope.workerId, jobId, attempt, reason: "requested" },
    ]);
    expect((await jobs.queue.cancelAck(scope, jobId, attempt)).job.state).toBe("cancelled");
    expect((await jobs.queue.cancelAck(scope, jobId, attempt)).changed).toBe(false);
    // A cancelled job is never retried, whatever the worker says afterwards.
    expect(await codeOf(jobs.queue.fail(scope, jobId, attempt, "worker_lost", "x"))).toBe("job_not_active");
  });

  it("a worker that vanishes or never acknowledges does not keep a cancelled job running", async () => {
    const vanished = await start();
    const silent = await start();
    const scope = await worker();
    await claimJob(scope, vanished);
    await claimJob(scope, silent);
    await jobs.cancel(org, vanished, null);
    await jobs.cancel(org, silent, null);
    await expireLease(vanished);
    await kiln.database.db
      .update(jobsTable)
      .set({ cancelRequestedAt: sql`now() - interval '1 hour'` })
      .where(eq(jobsTable.id, silent));
    await jobs.sweep();
    expect((await jobs.get(org, vanished)).state).toBe("cancelled");
    expect((await jobs.get(org, silent)).state).toBe("cancelled");
  });

  it("a finished job cannot be cancelled: 409 job_not_active", async () => {
    const jobId = await start();
    const scope = await worker();
    await claimJob(scope, jobId);
    await jobs.queue.complete(scope, jobId, 1, RESULT);
    expect(await codeOf(jobs.cancel(org, jobId, null))).toBe("job_not_active");
  });
});

describe("job tokens", () => {
  it("open the job's org and project while its attempt holds the lease, and nothing else", async () => {
    const jobId = await start();
    const scope = await worker();
    const { jobToken, attempt } = await claimJob(scope, jobId);
    expect(jobToken.startsWith("kiln_job_")).toBe(true);
    expect(await jobs.verifyJobToken(jobToken)).toEqual({
      orgId: org.id,
      projectId,
      jobId,
      taskId: null,
      requestedBy: null,
      branch: `kiln/job-${jobId}`,
    });
    for (const garbage of [
      "",
      "kiln_job_",
      `${jobToken}x`,
      "kiln_pat_abc",
      "x".repeat(5000),
      "' OR 1=1 --",
    ]) {
      expect(await jobs.verifyJobToken(garbage)).toBeNull();
    }
    await expireLease(jobId);
    expect(await jobs.verifyJobToken(jobToken)).toBeNull();
    await jobs.sweep();
    const next = await claimJob(scope, jobId);
    expect(await jobs.verifyJobToken(jobToken)).toBeNull();
    expect(await jobs.verifyJobToken(next.jobToken)).not.toBeNull();
    await jobs.queue.complete(scope, jobId, attempt + 1, RESULT);
    expect(await jobs.verifyJobToken(next.jobToken)).toBeNull();
  });
});

describe("starting and listing", () => {
  it("refuses a project that is not the org's", async () => {
    expect(
      await codeOf(
        jobs.startJob({ org, projectId: other.projectId, taskId: null, kind: "fix", requestedBy: null }),
      ),
    ).toBe("project_not_found");
    expect(await codeOf(jobs.get(org, await start("implement", other)))).toBe("job_not_found");
  });

  it("lists newest first, filtered by project, task and state, and only the org's own", async () => {
    const taskId = randomUUID();
    const { jobId } = await jobs.startJob({ org, projectId, taskId, kind: "review", requestedBy: null });
    expect((await jobs.get(org, jobId)).instructions).toMatch(/review/i);
    const byTask = await jobs.list(org, { taskId });
    expect(byTask.map((j) => j.id)).toEqual([jobId]);
    expect((await jobs.list(org, { state: "queued", projectId })).every((j) => j.state === "queued")).toBe(
      true,
    );
    expect((await jobs.list(org, {})).every((j) => j.orgId === org.id)).toBe(true);
    await jobs.cancel(org, jobId, null);
  });

  it("numbers each job's events from 1 without gaps, across attempts", async () => {
    const jobId = await start();
    const scope = await worker();
    await claimJob(scope, jobId);
    await jobs.queue.record(scope, jobId, 1, [
      { type: "step", name: "clone", status: "started" },
      { type: "step", name: "clone", status: "done" },
    ]);
    await jobs.queue.fail(scope, jobId, 1, "git_unavailable", "down");
    await claimJob(scope, jobId);
    await jobs.queue.complete(scope, jobId, 2, RESULT);
    const events = await jobs.events(org, jobId, 0);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect((await jobs.events(org, jobId, 3)).map((e) => e.seq)[0]).toBe(4);
  });
});

describe("a deleted project", () => {
  it("takes its jobs along, running ones included", async () => {
    const owner = await kiln.signup();
    const created = await owner.client.post(`/api/orgs/${owner.personalOrg.slug}/projects`, {
      name: "Doomed",
    });
    const [row] = await kiln.database.db.select().from(orgs).where(eq(orgs.id, owner.personalOrg.orgId));
    const target = { org: row!, projectId: created.json().id as string };
    const queued = await start("implement", target);
    const running = await start("implement", target);
    const scope = await worker(row!.id);
    const held = await claimJob(scope, running);
    const del = await owner.client.delete(`/api/orgs/${owner.personalOrg.slug}/projects/${target.projectId}`);
    expect(del.statusCode).toBe(200);
    for (const id of [queued, running]) expect(await codeOf(jobs.get(row!, id))).toBe("job_not_found");
    expect(await codeOf(jobs.queue.complete(scope, running, held.attempt, RESULT))).toBe("job_not_found");
    expect(await jobs.verifyJobToken(held.jobToken)).toBeNull();
  });
});

/** Cancels whatever this file left queued, so a test that counts claims sees only its own jobs. */
async function drain() {
  for (const target of [org, other.org]) {
    for (const job of await jobs.list(target, { state: "queued", limit: 200 }))
      await jobs.cancel(target, job.id, null);
  }
}
