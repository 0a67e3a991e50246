import { constants } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import path from "node:path";
import type { JobFailureCode } from "@kiln/protocol";
import { DEFAULT_GIT_LIMITS } from "../git/backend.ts";
import { EXIT, PRELUDE } from "../history/git-shell.ts";
import { gitEnvironment } from "../history/service.ts";
import type { ExecResult, SandboxDriver, SandboxSpec } from "../sandbox/driver.ts";
import { KILN_AUTHOR } from "../templates/git.ts";
import { privateHome } from "./git.ts";

/**
 * Git on a job's workspace, which the agent's sandboxed commands can change (`.git/config`, hooks,
 * attributes, `.git` itself): it runs only inside the project's sandbox, as the project's uid, with no
 * network. The worker's host-side git touches nothing but its private clone; the two exchange commits as
 * bundle files — in through a read-only mount, out through a file the host opens without following links.
 */

/** Where the private input directory (the base bundle) is mounted in the sandbox. */
const IN_MOUNT = "/kiln-in";
export const BASE_BUNDLE = "base.bundle";
/** The bundle the pack script leaves in the workspace, under `.kiln/` (never committed). */
const OUT_DIR = ".kiln";
const OUT_BUNDLE = "job.bundle";
/** A job's new objects may be as large as one push to the server may be. */
export const MAX_BUNDLE_BYTES = DEFAULT_GIT_LIMITS.maxPushBytes;

/**
 * Env: KILN_BUNDLE (the base bundle: every branch of the server), KILN_DEFAULT (the server's checked-out
 * branch), KILN_BRANCH (the job's). Makes a repository in the empty workspace, checks out the job's branch
 * where an earlier attempt or job left it, else new from the default branch, and prints KILN.md (capped).
 */
const CHECKOUT_SCRIPT = `
git -c init.templateDir= init -q --initial-branch="$KILN_DEFAULT" . || exit 1
${PRELUDE}
g -c protocol.file.allow=always fetch -q --no-tags "$KILN_BUNDLE" '+refs/heads/*:refs/remotes/origin/*' || exit 1
g update-ref "refs/heads/$KILN_DEFAULT" "refs/remotes/origin/$KILN_DEFAULT" || exit 1
start="refs/remotes/origin/$KILN_DEFAULT"
if g rev-parse -q --verify "refs/remotes/origin/$KILN_BRANCH^{commit}" >/dev/null; then
  start="refs/remotes/origin/$KILN_BRANCH"
fi
g checkout -q -B "$KILN_BRANCH" "$start" || exit 1
if [ -f KILN.md ]; then head -c 65536 KILN.md; fi
exit 0
`;

/**
 * Env: KILN_MESSAGE, KILN_BASES (commit ids the host already has). Commits the workspace on HEAD (the
 * history's \`save\`: all but node_modules and .kiln) and prints HEAD. Unless HEAD is one of the bases, its
 * new objects are bundled into .kiln/job.bundle as refs/kiln/job.
 */
const PACK_SCRIPT = `${PRELUDE}
save "$KILN_MESSAGE" job >/dev/null || exit 1
head=$(g rev-parse -q --verify 'HEAD^{commit}') || exit 1
for base in $KILN_BASES; do
  if [ "$head" = "$base" ]; then echo "$head"; exit 0; fi
done
if [ -L ${OUT_DIR} ] || { [ -e ${OUT_DIR} ] && [ ! -d ${OUT_DIR} ]; }; then rm -f ${OUT_DIR} || exit 1; fi
mkdir -p ${OUT_DIR} && rm -rf ${OUT_DIR}/${OUT_BUNDLE} || exit 1
g update-ref refs/kiln/job "$head" || exit 1
g bundle create -q ${OUT_DIR}/${OUT_BUNDLE} refs/kiln/job --not $KILN_BASES || exit 1
echo "$head"
`;

export interface JobWorkspace {
  driver: SandboxDriver;
  projectId: string;
  /** The workspace (the sandbox's /workspace): empty before `checkout`, the project's uid's afterwards. */
  workDir: string;
  /** A host-private directory (0755 under the job's 0700 directory) holding the base bundle. */
  inDir: string;
}

async function run(
  w: JobWorkspace,
  script: string,
  env: Record<string, string>,
  signal: AbortSignal,
): Promise<ExecResult> {
  // Without a sandbox (KILN_ALLOW_UNSANDBOXED) the same scripts run directly on the host, as agent code
  // does there: no mount, the input directory is read where it is.
  const host = w.driver.unsandboxed;
  const spec: SandboxSpec = {
    projectId: w.projectId,
    workspaceDir: w.workDir,
    network: "none",
    ...(host ? {} : { readOnlyMounts: [{ hostPath: w.inDir, sandboxPath: IN_MOUNT }] }),
  };
  return w.driver.exec(spec, {
    argv: ["sh", "-c", script, "kiln-worker-git"],
    env: {
      ...gitEnvironment(host ? await privateHome() : "/tmp"),
      GIT_AUTHOR_NAME: "Kiln agent",
      GIT_AUTHOR_EMAIL: KILN_AUTHOR.email,
      KILN_BUNDLE: host ? path.join(w.inDir, BASE_BUNDLE) : `${IN_MOUNT}/${BASE_BUNDLE}`,
      ...env,
    },
    limits: { wallClockMs: DEFAULT_GIT_LIMITS.timeoutMs, outputBytes: 128 * 1024 },
    signal,
  });
}

/** A job's git step failed; `code` says whether another attempt could do better. */
export class JobGitError extends Error {
  readonly code: JobFailureCode;

  constructor(code: JobFailureCode, message: string) {
    super(message);
    this.code = code;
  }
}

function failure(step: string, r: ExecResult): JobGitError {
  // The agent replaced or removed `.git`: its work cannot be committed, on any attempt.
  if (r.exitCode === EXIT.noRepository)
    return new JobGitError("agent_failed", `the workspace has no git repository any more (${step})`);
  const why = r.timedOut ? "timed out" : `exit ${r.exitCode ?? r.signal}`;
  return new JobGitError(
    "worker_error",
    `git ${step} in the sandbox failed (${why}): ${r.stderr.trim().slice(-500)}`,
  );
}

/** Checks the job's branch out into the empty workspace; returns the project's KILN.md, if any. */
export async function checkoutInSandbox(
  w: JobWorkspace,
  refs: { defaultBranch: string; branch: string },
  signal: AbortSignal,
): Promise<string | undefined> {
  const r = await run(
    w,
    CHECKOUT_SCRIPT,
    { KILN_DEFAULT: refs.defaultBranch, KILN_BRANCH: refs.branch },
    signal,
  );
  if (r.exitCode !== 0) throw failure("checkout", r);
  return r.stdout || undefined;
}

/**
 * Commits the workspace in the sandbox and copies the bundle of its new commits to `bundlePath` (host
 * private). Returns the commit and whether a bundle was made (none when HEAD is one of `bases`).
 */
export async function packInSandbox(
  w: JobWorkspace,
  o: { message: string; bases: string[]; bundlePath: string },
  signal: AbortSignal,
): Promise<{ commit: string; bundled: boolean }> {
  const r = await run(w, PACK_SCRIPT, { KILN_MESSAGE: o.message, KILN_BASES: o.bases.join(" ") }, signal);
  if (r.exitCode !== 0) throw failure("commit", r);
  const commit = r.stdout.trim();
  if (!/^[0-9a-f]{40}$/.test(commit))
    throw new Error(`git commit in the sandbox printed no commit: ${commit}`);
  if (o.bases.includes(commit)) return { commit, bundled: false };
  await copyOutBundle(w.workDir, o.bundlePath);
  return { commit, bundled: true };
}

/**
 * `.kiln/job.bundle` of the workspace → `dest`. The workspace directory itself cannot be swapped (its parent
 * is the job's root-only directory), but everything in it can: `.kiln` is opened as a directory without
 * following a link, the bundle through that descriptor without following one either and without blocking
 * on a FIFO, and only a regular file with one link and a bounded size is read.
 */
export async function copyOutBundle(workDir: string, dest: string): Promise<void> {
  const { O_RDONLY, O_DIRECTORY, O_NOFOLLOW, O_NONBLOCK, O_NOCTTY } = constants;
  let dir: FileHandle | undefined;
  let file: FileHandle | undefined;
  let out: FileHandle | undefined;
  try {
    try {
      dir = await open(path.join(workDir, OUT_DIR), O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
      file = await open(
        `/proc/self/fd/${dir.fd}/${OUT_BUNDLE}`,
        O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY,
      );
    } catch (error) {
      // A link (ELOOP, ENOTDIR) or nothing where the script left the bundle: something in the sandbox moved it.
      throw new JobGitError("agent_failed", `the job's bundle cannot be opened: ${(error as Error).message}`);
    }
    const st = await file.stat();
    if (!st.isFile() || st.nlink !== 1)
      throw new JobGitError("agent_failed", "the job's bundle is not a regular file with one link");
    if (st.size > MAX_BUNDLE_BYTES) throw tooLarge();
    out = await open(dest, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    const buffer = Buffer.alloc(1024 * 1024);
    let total = 0;
    for (;;) {
      const { bytesRead } = await file.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      // The file can still grow while it is read (nothing should be writing it by now, but it is not ours).
      if (total > MAX_BUNDLE_BYTES) throw tooLarge();
      await out.write(buffer, 0, bytesRead);
    }
  } finally {
    await out?.close();
    await file?.close();
    await dir?.close();
  }
}

function tooLarge(): JobGitError {
  return new JobGitError("push_rejected", `the job's changes exceed ${MAX_BUNDLE_BYTES} bytes`);
}
