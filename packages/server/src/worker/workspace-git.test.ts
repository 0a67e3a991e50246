import { execFileSync } from "node:child_process";
import { link, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { copyOutBundle, JobGitError } from "./workspace-git.ts";

/** The host's one read from a workspace: the job's bundle, which sandboxed code could have replaced. */

let root: string;
let work: string;
let dest: string;

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "kiln-bundle-"));
  work = path.join(root, "work");
  dest = path.join(root, "out.bundle");
  await mkdir(work);
});

afterEach(() => rm(root, { recursive: true, force: true }));

async function refusal(): Promise<JobGitError> {
  const error = await copyOutBundle(work, dest).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(JobGitError);
  return error as JobGitError;
}

describe("copyOutBundle", () => {
  it("copies a regular file", async () => {
    await mkdir(path.join(work, ".kiln"));
    await writeFile(path.join(work, ".kiln", "job.bundle"), "bundle bytes");
    await copyOutBundle(work, dest);
    expect(await readFile(dest, "utf8")).toBe("bundle bytes");
  });

  it("refuses .kiln as a link to a directory elsewhere", async () => {
    const elsewhere = path.join(root, "elsewhere");
    await mkdir(elsewhere);
    await writeFile(path.join(elsewhere, "job.bundle"), "host file");
    await symlink(elsewhere, path.join(work, ".kiln"));
    expect((await refusal()).code).toBe("agent_failed");
  });

  it("refuses the bundle as a link, a hard link or a FIFO, without blocking on the FIFO", async () => {
    await mkdir(path.join(work, ".kiln"));
    const bundle = path.join(work, ".kiln", "job.bundle");
    const secret = path.join(root, "secret");
    await writeFile(secret, "host secret", { mode: 0o600 });

    await symlink(secret, bundle);
    expect((await refusal()).code).toBe("agent_failed");
    await rm(bundle);

    await link(secret, bundle);
    expect((await refusal()).message).toContain("not a regular file");
    await rm(bundle);

    execFileSync("mkfifo", [bundle]);
    expect((await refusal()).message).toContain("not a regular file");
    await expect(readFile(dest)).rejects.toThrow();
  });
});
