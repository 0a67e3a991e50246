import { randomUUID } from "node:crypto";
import { rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { orgs, workers } from "../db/schema-shared.ts";
import { type GitTestbed, git, remoteUrl, runGit, startGitTestbed, tempDir } from "../testing/git.ts";

/**
 * A job's token against the project's other refs, with the real git CLI: a job (whose agent runs hostile
 * code) may push its own branch and nothing else — not another task's branch under review, not a tag,
 * not the checked-out branch.
 */

let bed: GitTestbed;

beforeAll(async () => {
  bed = await startGitTestbed();
}, 120_000);

afterAll(() => bed?.kiln.stop());

/** A task's implement job, claimed the way a worker claims it: its branch and its token. */
async function claimedTaskJob(project: { slug: string; id: string }) {
  const base = `/api/orgs/${bed.org.slug}/projects/${project.slug}`;
  const task = await bed.owner.client.post(`${base}/tasks`, { title: `Task ${randomUUID()}` });
  expect(task.statusCode).toBe(201);
  const taskId = task.json().id as string;
  const [org] = await bed.kiln.database.db.select().from(orgs).where(eq(orgs.id, bed.org.id));
  const { jobId } = await bed.kiln.services.jobs.startJob({
    org: org!,
    projectId: project.id,
    taskId,
    kind: "implement",
    requestedBy: null,
    instructions: "work",
  });
  const workerId = randomUUID();
  await bed.kiln.database.db
    .insert(workers)
    .values({ id: workerId, orgId: bed.org.id, name: "w", version: "1", concurrency: 1 });
  const [claimed] = await bed.kiln.services.jobs.queue.claim({ workerId, orgId: bed.org.id }, 1);
  expect(claimed?.job.id).toBe(jobId);
  return { taskId, token: claimed!.jobToken };
}

async function serverRef(url: string, ref: string): Promise<string> {
  const listed = await git(["ls-remote", url, ref]);
  return listed.split("\t")[0] ?? "";
}

describe("a job token", () => {
  it("pushes its own task's branch and is refused every other ref", async () => {
    const project = await bed.newProject();
    const ownerUrl = remoteUrl(bed.base, bed.org.slug, project.slug, bed.token);
    const work = await tempDir("job-refs");
    try {
      // Another task's work, under review.
      await git(["clone", "-q", ownerUrl, work]);
      await writeFile(path.join(work, "other.txt"), "another task\n");
      await git(["add", "-A"], { cwd: work });
      await git(["commit", "-q", "-m", "other task"], { cwd: work });
      const otherBranch = "refs/heads/kiln/task-other";
      await git(["push", "-q", "origin", `HEAD:${otherBranch}`], { cwd: work });
      const reviewed = await serverRef(ownerUrl, otherBranch);
      const main = await serverRef(ownerUrl, "refs/heads/main");

      const job = await claimedTaskJob(project);
      const jobUrl = remoteUrl(bed.base, bed.org.slug, project.slug, job.token);
      await writeFile(path.join(work, "job.txt"), "the job's work\n");
      await git(["add", "-A"], { cwd: work });
      await git(["commit", "-q", "-m", "job"], { cwd: work });
      const commit = (await git(["rev-parse", "HEAD"], { cwd: work })).trim();

      for (const ref of [
        otherBranch,
        "refs/heads/main",
        "refs/tags/v1",
        "refs/heads/feature",
        `refs/heads/kiln/task-${job.taskId}x`,
        `refs/heads/kiln/task-${job.taskId}/sub`,
        "refs/notes/commits",
      ]) {
        const before = await serverRef(ownerUrl, ref);
        const pushed = await runGit(["push", jobUrl, `+HEAD:${ref}`], { cwd: work });
        expect(pushed.code, `${ref}: ${pushed.stderr}`).not.toBe(0);
        expect(pushed.stderr).toMatch(/deny updating a hidden ref|403/);
        expect(await serverRef(ownerUrl, ref), ref).toBe(before);
      }
      // Its own branch together with another ref in one push: all of it is refused.
      const both = await runGit(
        ["push", jobUrl, `HEAD:refs/heads/kiln/task-${job.taskId}`, "HEAD:refs/tags/v2"],
        {
          cwd: work,
        },
      );
      expect(both.code).not.toBe(0);
      expect(await serverRef(ownerUrl, `refs/heads/kiln/task-${job.taskId}`)).toBe("");
      expect((await runGit(["ls-remote", "--exit-code", ownerUrl, "refs/tags/v2"])).code).not.toBe(0);
      expect(await serverRef(ownerUrl, otherBranch)).toBe(reviewed);
      expect(await serverRef(ownerUrl, "refs/heads/main")).toBe(main);
      expect((await runGit(["ls-remote", "--exit-code", ownerUrl, "refs/tags/v1"])).code).not.toBe(0);
      // Deleting another task's branch is a push too.
      const deleted = await runGit(["push", jobUrl, `:${otherBranch}`], { cwd: work });
      expect(deleted.code).not.toBe(0);
      expect(await serverRef(ownerUrl, otherBranch)).toBe(reviewed);

      const own = `refs/heads/kiln/task-${job.taskId}`;
      const pushed = await runGit(["push", jobUrl, `HEAD:${own}`], { cwd: work });
      expect(pushed.code, pushed.stderr).toBe(0);
      expect(await serverRef(ownerUrl, own)).toBe(commit);
      // It still fetches the whole project (a fix job continues from main and its own branch).
      expect(await serverRef(jobUrl, otherBranch)).toBe(reviewed);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }, 120_000);
});
