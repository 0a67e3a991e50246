import type { Job } from "@kiln/protocol";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jobs } from "../db/schema-shared.ts";
import { type SignedUp, startTestKiln, type TestKiln } from "../testing/harness.ts";
import { isolatedDatabase } from "../testing/jobs.ts";

/**
 * A job's outcome on its task (the summary comment, the move to Review) is applied after its final state is
 * stored. When the server that finished it dies in between, the sweeper of any server applies it — once.
 */

let isolated: Awaited<ReturnType<typeof isolatedDatabase>>;
let kiln: TestKiln;
let owner: SignedUp;
let base: string;

beforeAll(async () => {
  isolated = await isolatedDatabase();
  kiln = await startTestKiln({
    database: isolated.database,
    env: { KILN_JOB_SWEEP_SECONDS: "0", KILN_JOB_LEASE_SECONDS: "5" },
  });
  owner = await kiln.signup();
  const org = owner.personalOrg.slug;
  const project = (await owner.client.post(`/api/orgs/${org}/projects`, { name: "Outcomes" })).json().slug;
  base = `/api/orgs/${org}/projects/${project}`;
}, 60_000);

afterAll(async () => {
  await kiln?.stop();
  await isolated?.drop();
});

/** A task moved to In progress for the agent, and the implement job that started (no worker runs here). */
async function taskWithJob(
  title: string,
): Promise<{ taskId: string; job: Job; named: (n: string) => string }> {
  const statuses = (await owner.client.get(`${base}/workflow`)).json().statuses as Array<{
    id: string;
    name: string;
  }>;
  const named = (n: string) => statuses.find((s) => s.name === n)!.id;
  const task = (await owner.client.post(`${base}/tasks`, { title, assignee: { type: "agent" } })).json();
  for (const status of ["To do", "In progress"])
    await owner.client.post(`${base}/tasks/${task.id}/move`, { statusId: named(status) });
  const [job] = (
    await owner.client.get(`/api/orgs/${owner.personalOrg.slug}/jobs?taskId=${task.id}`)
  ).json() as Job[];
  expect(job).toMatchObject({ kind: "implement", state: "queued" });
  return { taskId: task.id, job: job!, named };
}

/** What the database holds when a server stored a job's completion and died before applying it. */
async function completedThenCrashed(jobId: string, finishedSecondsAgo: number): Promise<void> {
  await kiln.database.db
    .update(jobs)
    .set({
      state: "completed",
      result: { summary: `Done by ${jobId}`, branch: `kiln/job-${jobId}`, commit: "a".repeat(40) },
      finishedAt: new Date(Date.now() - finishedSecondsAgo * 1000),
      outcomeAppliedAt: null,
    })
    .where(eq(jobs.id, jobId));
}

const comments = async (taskId: string) =>
  ((await owner.client.get(`${base}/tasks/${taskId}/comments`)).json() as Array<{ body: string }>).map(
    (c) => c.body,
  );

describe("a finished job whose server died before updating its task", () => {
  it("is applied by the next sweep, once, after the lease's grace", async () => {
    const { taskId, job, named } = await taskWithJob("Lost outcome");
    await completedThenCrashed(job.id, 60);
    const fresh = await taskWithJob("Still being applied");
    await completedThenCrashed(fresh.job.id, 0);

    await kiln.services.jobs.sweep();
    expect((await comments(taskId)).filter((c) => c.includes(`Done by ${job.id}`))).toHaveLength(1);
    expect((await owner.client.get(`${base}/tasks/${taskId}`)).json().statusId).toBe(named("Review"));
    // Finished a moment ago: its own server may still be applying it.
    expect(await comments(fresh.taskId)).toEqual([]);

    await kiln.services.jobs.sweep();
    expect((await comments(taskId)).filter((c) => c.includes(`Done by ${job.id}`))).toHaveLength(1);
    const [row] = await kiln.database.db.select().from(jobs).where(eq(jobs.id, job.id));
    expect(row!.outcomeAppliedAt).not.toBeNull();
  });

  it("records the outcome as applied when the finishing server applies it itself", async () => {
    const { job } = await taskWithJob("Cancelled normally");
    const cancelled = await owner.client.post(`/api/orgs/${owner.personalOrg.slug}/jobs/${job.id}/cancel`);
    expect(cancelled.statusCode).toBe(200);
    await expect
      .poll(async () => {
        const [row] = await kiln.database.db.select().from(jobs).where(eq(jobs.id, job.id));
        return row!.outcomeAppliedAt;
      })
      .not.toBeNull();
  });
});
