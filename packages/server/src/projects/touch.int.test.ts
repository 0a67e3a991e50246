import { rm } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GitTestbed, git, remoteUrl, runGit, startGitTestbed, tempDir } from "../testing/git.ts";
import { TOUCH_INTERVAL_MS } from "./touch.ts";

/**
 * A project's `updatedAt` (the dashboard's "updated" time and order) follows changes of its files: a write
 * through the file API, a merged branch (what approving a task does), a restore. Writes to the row are at
 * most one per project per `TOUCH_INTERVAL_MS`, the last change of a burst included.
 */

let bed: GitTestbed;

beforeAll(async () => {
  bed = await startGitTestbed();
}, 120_000);

afterAll(() => bed?.kiln.stop());

async function updatedAt(api: string): Promise<string> {
  const res = await bed.owner.client.get(api);
  expect(res.statusCode).toBe(200);
  return res.json().updatedAt;
}

/** Once a change's touch (and any at the end of its window) is written, the time it settled on. */
async function settled(api: string): Promise<string> {
  await sleep(TOUCH_INTERVAL_MS + 300);
  return updatedAt(api);
}

/** Resolves when `updatedAt` is later than `before`, with its new value. */
async function movedPast(api: string, before: string): Promise<string> {
  await expect
    .poll(async () => Date.parse(await updatedAt(api)), { timeout: TOUCH_INTERVAL_MS + 5_000 })
    .toBeGreaterThan(Date.parse(before));
  return updatedAt(api);
}

describe("a project's updated time", () => {
  it("moves when a file is written, a branch is merged and a checkpoint is restored", async () => {
    const p = await bed.newProject();
    const created = await settled(p.api);

    const written = await bed.owner.client.put(`${p.api}/files/content`, {
      path: "notes.md",
      content: "# Notes\n",
    });
    expect(written.statusCode, written.body).toBe(200);
    await movedPast(p.api, created);

    // Work on a branch (as a worker pushes it) leaves main's files and the time alone…
    const checkpoints = (await bed.owner.client.get(`${p.api}/history`)).json().checkpoints;
    const work = await tempDir("touch");
    await git(["clone", "-q", remoteUrl(bed.base, bed.org.slug, p.slug, bed.token), work]);
    await git(["checkout", "-q", "-b", "kiln/feature"], { cwd: work });
    await runGit(["rm", "-q", "script.js"], { cwd: work });
    await git(["commit", "-q", "-m", "drop the script"], { cwd: work });
    await git(["push", "-q", "origin", "HEAD:refs/heads/kiln/feature"], { cwd: work });
    await rm(work, { recursive: true, force: true });
    const beforeMerge = await settled(p.api);
    expect(await settled(p.api)).toBe(beforeMerge);

    // …merging it (what "Approve and merge" does) changes them.
    const { merged } = await bed.kiln.services.history.mergeBranch(
      { orgId: bed.org.id, projectId: p.id },
      "kiln/feature",
      "Merge feature",
    );
    expect(merged).not.toBeNull();
    await movedPast(p.api, beforeMerge);

    const beforeRestore = await settled(p.api);
    const restored = await bed.owner.client.post(`${p.api}/history/${checkpoints.at(-1).sha}/restore`, {
      force: true,
    });
    expect(restored.statusCode, restored.body).toBe(200);
    await movedPast(p.api, beforeRestore);
  }, 120_000);

  it("after a burst of changes, ends at the time of the last one", async () => {
    const p = await bed.newProject();
    await settled(p.api);
    for (let i = 0; i < 5; i++) {
      const res = await bed.owner.client.put(`${p.api}/files/content`, {
        path: `f${i}.txt`,
        content: `${i}\n`,
      });
      expect(res.statusCode).toBe(200);
    }
    const lastChange = Date.now();
    // The first change is written at once, the rest at the end of its window: not left at the first.
    await expect
      .poll(async () => Date.parse(await updatedAt(p.api)), { timeout: TOUCH_INTERVAL_MS + 5_000 })
      .toBeGreaterThanOrEqual(lastChange - 50);
  }, 60_000);
});
