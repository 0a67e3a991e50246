import { randomBytes } from "node:crypto";
import path from "node:path";
import { KilnError } from "../errors/errors.ts";
import { EXIT } from "../history/git-shell.ts";
import { splitOnNonce } from "../history/parse.ts";
import { gitEnvironment } from "../history/service.ts";
import type { ExecResult, SandboxDriver } from "../sandbox/driver.ts";
import { KILN_AUTHOR } from "../templates/git.ts";
import { takeBundle } from "./bundle-file.ts";
import {
  BUNDLE_OUT_SCRIPT,
  COUNT_SCRIPT,
  IMPORT_SCRIPT,
  IN_MOUNT,
  PULL_SCRIPT,
  PUSH_BUNDLE,
  TAKE_SCRIPT,
} from "./scripts.ts";
import type { TransferDir } from "./transfer.ts";

/** The local branch a remote's branch is synced with. */
export const LOCAL_BRANCH = "main";

export interface Workspace {
  driver: SandboxDriver;
  projectId: string;
  /** The project's directory (the sandbox's /workspace). */
  dir: string;
  timeoutMs: number;
}

export interface PullOutcome {
  outcome: "up-to-date" | "fast-forward" | "merged" | "conflict" | "merged-with-conflicts";
  commit: string | null;
  savedChanges: boolean;
  conflicts: string[];
  changes: Array<{ status: string; path: string }>;
}

/**
 * Git on a project's own repository for remotes (ADR 0025): in the project's sandbox, as its uid, with no
 * network and no credentials; objects come in as a bundle on a read-only mount and go out as a bundle the
 * host takes through no-follow descriptors (bundle-file.ts).
 */
async function run(
  w: Workspace,
  script: string,
  dir: TransferDir | undefined,
  env: Record<string, string>,
  args: string[] = [],
): Promise<ExecResult & { nonce: string }> {
  const nonce = `\x1e${randomBytes(12).toString("hex")}:`;
  const r = await w.driver.exec(
    {
      projectId: w.projectId,
      workspaceDir: w.dir,
      network: "none",
      ...(dir ? { readOnlyMounts: [{ hostPath: dir.inDir, sandboxPath: IN_MOUNT }] } : {}),
    },
    {
      argv: ["sh", "-c", script, "kiln-remote", ...args],
      env: {
        ...gitEnvironment("/tmp"),
        GIT_AUTHOR_NAME: KILN_AUTHOR.name,
        GIT_AUTHOR_EMAIL: KILN_AUTHOR.email,
        KILN_NONCE: nonce,
        ...env,
      },
      limits: { wallClockMs: w.timeoutMs, outputBytes: 2 * 1024 * 1024 },
    },
  );
  return { ...r, nonce };
}

function failure(step: string, r: ExecResult): KilnError | Error {
  if (r.timedOut) return new KilnError("git_timeout", `git (${step}) took too long in the project`);
  if (r.exitCode === EXIT.noRepository)
    return new KilnError("history_unavailable", "this project has no git repository");
  const inTheWay = /Entry '(.+)' not uptodate|working tree file '(.+)' would be overwritten/.exec(r.stderr);
  if (inTheWay) {
    const where = inTheWay[1] ?? inTheWay[2];
    return new KilnError("files_in_the_way", `${where} changed while git was updating the files; try again`, {
      details: { path: where },
    });
  }
  if (/index\.lock|cannot lock ref/.test(r.stderr))
    return new KilnError("history_busy", "another git command is running in this project; try again");
  return new Error(`git ${step} in the project failed (exit ${r.exitCode}): ${r.stderr.trim().slice(-1000)}`);
}

function sectionValue(sections: string[], name: string): string | undefined {
  return sections
    .find((s) => s.startsWith(`${name} `))
    ?.slice(name.length + 1)
    .trim();
}

function counts(sections: string[]): { ahead: number; behind: number } | undefined {
  const m = /^(\d+) (\d+)$/.exec(sectionValue(sections, "counts") ?? "");
  return m ? { ahead: Number(m[1]), behind: Number(m[2]) } : undefined;
}

/** A new project's repository from the fetched branch: main at its commit, its files checked out. */
export async function checkoutImported(
  w: Workspace,
  dir: TransferDir,
  branch: string,
): Promise<{ files: number; bytes: number }> {
  const r = await run(w, IMPORT_SCRIPT, dir, { KILN_BRANCH: branch });
  if (r.exitCode !== 0) throw failure("checkout", r);
  const sections = splitOnNonce(r.stdout, r.nonce);
  return {
    files: Number(sectionValue(sections, "files") ?? 0) || 0,
    bytes: Number(sectionValue(sections, "bytes") ?? 0) || 0,
  };
}

/** Takes the fetched branch in as refs/remotes/kiln-remote/<branch>; main's commits ahead and behind it. */
export async function takeFetched(w: Workspace, dir: TransferDir, branch: string) {
  const r = await run(w, TAKE_SCRIPT, dir, { KILN_BRANCH: branch, KILN_LOCAL: LOCAL_BRANCH });
  if (r.exitCode !== 0) throw failure("fetch", r);
  return counts(splitOnNonce(r.stdout, r.nonce));
}

/** main against the remote branch's commit as last seen, without the network; undefined without one. */
export async function countAheadBehind(w: Workspace, commit: string | null) {
  if (!commit) return undefined;
  const r = await run(w, COUNT_SCRIPT, undefined, { KILN_COMMIT: commit, KILN_LOCAL: LOCAL_BRANCH });
  if (r.exitCode !== 0) throw failure("status", r);
  return counts(splitOnNonce(r.stdout, r.nonce));
}

/** Bundles a local branch into `<in>/push.bundle`; returns its commit. */
export async function bundleBranch(
  w: Workspace,
  dir: TransferDir,
  branch: string,
  maxBytes: number,
): Promise<{ tip: string; saved: boolean }> {
  const name = `push-${randomBytes(8).toString("hex")}.bundle`;
  const r = await run(w, BUNDLE_OUT_SCRIPT, undefined, { KILN_SAVE_MESSAGE: "Saved before push" }, [
    branch,
    name,
  ]);
  if (r.exitCode === EXIT.notFound)
    throw new KilnError("branch_not_found", `the project has no branch ${branch}`);
  if (r.exitCode !== 0) throw failure("bundle", r);
  const sections = splitOnNonce(r.stdout, r.nonce);
  const tip = sectionValue(sections, "tip") ?? "";
  if (!/^[0-9a-f]{40,64}$/.test(tip)) throw new Error("git bundle in the project printed no commit");
  await takeBundle({
    dir: w.dir,
    segments: [".kiln"],
    name,
    dest: path.join(dir.inDir, PUSH_BUNDLE),
    maxBytes,
  });
  return { tip, saved: sections.some((s) => s.startsWith("saved\n")) };
}

/** Takes the fetched branch in and merges it into main (PULL_SCRIPT); a conflict with `stop` changes no file. */
export async function mergeFetched(
  w: Workspace,
  dir: TransferDir,
  branch: string,
  onConflict: "stop" | "markers",
): Promise<PullOutcome> {
  const r = await run(w, PULL_SCRIPT, dir, {
    KILN_BRANCH: branch,
    KILN_ON_CONFLICT: onConflict,
    KILN_MESSAGE: `Merge the remote's ${branch}`,
    KILN_SAVE_MESSAGE: "Saved before pull",
  });
  const sections = splitOnNonce(r.stdout, r.nonce);
  const listed = sections.find((s) => s.startsWith("conflicts\n"));
  const conflicts = [...new Set((listed?.slice(10).split("\0") ?? []).filter(Boolean))];
  const savedChanges = sections.some((s) => s.startsWith("saved\n"));
  if (r.exitCode === EXIT.conflict)
    return { outcome: "conflict", commit: null, savedChanges, conflicts, changes: [] };
  if (r.exitCode !== 0) throw failure("pull", r);
  const outcome = sectionValue(sections, "outcome") as PullOutcome["outcome"] | undefined;
  if (!outcome) throw new Error("git pull in the project printed no outcome");
  const changed =
    sections
      .find((s) => s.startsWith("changes\n"))
      ?.slice(8)
      .split("\0") ?? [];
  const changes: PullOutcome["changes"] = [];
  for (let i = 0; i + 1 < changed.length; i += 2) {
    const status = changed[i]!.trim();
    if (status) changes.push({ status, path: changed[i + 1]! });
  }
  return { outcome, commit: sectionValue(sections, "commit") ?? null, savedChanges, conflicts, changes };
}
