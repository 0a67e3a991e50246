import { execFile } from "node:child_process";
import os from "node:os";
import { promisify } from "node:util";

const exec = promisify(execFile);

export const KILN_AUTHOR = { name: "Kiln", email: "kiln@localhost" } as const;

/**
 * The environment for every git command Kiln runs on the host: no system or user configuration (an
 * operator's hooks, signing keys, templates or aliases must not leak into project repositories), a fixed
 * identity and no prompts.
 */
export function gitEnv(): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: os.tmpdir(),
    LANG: "C",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_TERMINAL_PROMPT: "0",
    GIT_AUTHOR_NAME: KILN_AUTHOR.name,
    GIT_AUTHOR_EMAIL: KILN_AUTHOR.email,
    GIT_COMMITTER_NAME: KILN_AUTHOR.name,
    GIT_COMMITTER_EMAIL: KILN_AUTHOR.email,
  };
}

export async function git(cwd: string, args: string[]): Promise<string> {
  const { stdout } = await exec("git", args, { cwd, env: gitEnv(), maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}

/** Makes `dir` a repository on branch `main` whose one commit holds every file not ignored. */
export async function initRepository(dir: string, message: string): Promise<void> {
  // Host git as root, so only ever on a tree Kiln alone has written (TemplateService makes the files and the
  // commit before the tree is handed to the sandbox user): once sandboxed code has had it, `.git/config`,
  // hooks and attributes are the tenant's, and git on it runs in the sandbox (history/git-shell.ts).
  const safe = ["-c", `safe.directory=${dir}`];
  await git(dir, [...safe, "init", "--quiet", "--initial-branch=main"]);
  await git(dir, [...safe, "add", "--all"]);
  await git(dir, [
    ...safe,
    "-c",
    "commit.gpgSign=false",
    "commit",
    "--quiet",
    "--no-verify",
    "--message",
    message,
  ]);
}
