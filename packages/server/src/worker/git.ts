import { spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { GIT_OVERRIDES } from "../history/git-shell.ts";

/**
 * Git on the worker's host, over the job's private clone only: a bare repository in the job's root-only
 * directory whose config git and Kiln wrote, never mounted into a sandbox (the workspace's git runs in the
 * sandbox: workspace-git.ts). Belt and braces, the history's overrides still apply, transports are limited
 * to the ones a command needs, and the job token travels in the environment (never in argv, which other
 * users can read).
 */
export interface GitResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** HOME for git: private and empty (curl would read a ~/.netrc), removed when the process exits. */
let emptyHome: Promise<string> | undefined;

export function privateHome(): Promise<string> {
  emptyHome ??= mkdtemp(path.join(os.tmpdir(), "kiln-worker-home-")).then((home) => {
    process.once("exit", () => rmSync(home, { recursive: true, force: true }));
    return home;
  });
  return emptyHome;
}

export async function git(
  cwd: string,
  args: string[],
  options: {
    token?: string;
    /** Transports allowed (`protocol.<name>.allow`); every other stays off (GIT_OVERRIDES). */
    protocols?: Array<"http" | "https" | "file">;
    timeoutMs?: number;
  } = {},
): Promise<GitResult> {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: await privateHome(),
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_TERMINAL_PROMPT: "0",
    GIT_AUTHOR_NAME: "Kiln agent",
    GIT_AUTHOR_EMAIL: "agent@kiln.local",
    GIT_COMMITTER_NAME: "Kiln agent",
    GIT_COMMITTER_EMAIL: "agent@kiln.local",
    LC_ALL: "C",
  };
  const extra: Array<[string, string]> = [];
  for (const name of options.protocols ?? []) extra.push([`protocol.${name}.allow`, "always"]);
  if (options.token) extra.push(["http.extraHeader", `Authorization: Bearer ${options.token}`]);
  env.GIT_CONFIG_COUNT = String(extra.length);
  extra.forEach(([key, value], i) => {
    env[`GIT_CONFIG_KEY_${i}`] = key;
    env[`GIT_CONFIG_VALUE_${i}`] = value;
  });
  const argv = [...GIT_OVERRIDES.flatMap((o) => ["-c", o]), ...args];
  return new Promise((resolve, reject) => {
    const child = spawn("git", argv, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 120_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr: stderr.replaceAll(options.token ?? "\u0000", "***") });
    });
  });
}

export async function gitOk(
  cwd: string,
  args: string[],
  options: Parameters<typeof git>[2] = {},
): Promise<string> {
  const res = await git(cwd, args, options);
  if (res.code !== 0) throw new Error(`git ${args[0]} failed: ${res.stderr.trim().slice(-500)}`);
  return res.stdout;
}
