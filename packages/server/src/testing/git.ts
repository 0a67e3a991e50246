import { execFile } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import type { Role } from "@kiln/protocol";
import { type SignedUp, startTestKiln, type TestKiln, uniqueSlug } from "./harness.ts";

/** Helpers for the git-over-HTTP integration tests: the real git CLI against a listening Kiln. */

export interface GitRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the git CLI as a user would, but with no user or system config and never prompting. */
export function runGit(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}) {
  return new Promise<GitRun>((resolve) => {
    execFile(
      "git",
      args,
      {
        cwd: options.cwd,
        timeout: 120_000,
        maxBuffer: 64 * 1024 * 1024,
        env: {
          PATH: process.env.PATH ?? "/usr/bin:/bin",
          HOME: os.tmpdir(),
          LC_ALL: "C",
          GIT_CONFIG_NOSYSTEM: "1",
          GIT_CONFIG_GLOBAL: "/dev/null",
          GIT_TERMINAL_PROMPT: "0",
          GIT_ASKPASS: "",
          SSH_ASKPASS: "",
          GIT_AUTHOR_NAME: "Tester",
          GIT_AUTHOR_EMAIL: "tester@example.com",
          GIT_COMMITTER_NAME: "Tester",
          GIT_COMMITTER_EMAIL: "tester@example.com",
          ...options.env,
        },
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

/** Like runGit, failing the test with git's own words when git fails. */
export async function git(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}) {
  const run = await runGit(args, options);
  if (run.code !== 0) throw new Error(`git ${args.join(" ")} failed (${run.code}):\n${run.stderr}`);
  return run.stdout;
}

/** Listens on a free loopback port; returns the base URL. */
export async function listen(kiln: TestKiln): Promise<string> {
  await kiln.app.listen({ host: "127.0.0.1", port: 0 });
  const { port } = kiln.app.server.address() as AddressInfo;
  return `http://127.0.0.1:${port}`;
}

/** A remote URL with credentials in it, as `git clone http://user:TOKEN@host/git/org/project.git` takes. */
export function remoteUrl(base: string, org: string, project: string, token?: string): string {
  const url = new URL(`${base}/git/${org}/${project}.git`);
  if (token !== undefined) {
    url.username = "kiln";
    url.password = token;
  }
  return url.toString();
}

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), `kiln-git-test-${prefix}-`));
}

export async function apiToken(user: SignedUp): Promise<string> {
  const res = await user.client.post("/api/auth/tokens", { name: "git" });
  if (res.statusCode !== 201) throw new Error(`token: ${res.statusCode} ${res.body}`);
  return res.json().token;
}

/** Signs up a new user and brings them into `org` with `role`, the way a person would. */
export async function join(kiln: TestKiln, owner: SignedUp, org: string, role: Role): Promise<SignedUp> {
  const member = await kiln.signup();
  const invited = await owner.client.post(`/api/orgs/${org}/invitations`, { email: member.user.email, role });
  if (invited.statusCode !== 201) throw new Error(`invite: ${invited.statusCode} ${invited.body}`);
  const token = new URL(invited.json().url).pathname.split("/").at(-1);
  const accepted = await member.client.post(`/api/invitations/${token}/accept`);
  if (accepted.statusCode !== 200) throw new Error(`accept: ${accepted.statusCode} ${accepted.body}`);
  return member;
}

export interface GitTestbed {
  kiln: TestKiln;
  /** The listening server's base URL. */
  base: string;
  owner: SignedUp;
  /** The owner's personal API token. */
  token: string;
  org: { id: string; slug: string };
  /** A project of the org from the static template: its API path and its directory on disk. */
  newProject(): Promise<{ id: string; slug: string; api: string; dir: string }>;
}

/** A listening Kiln with an owner, their API token and an org of theirs. */
export async function startGitTestbed(env: Record<string, string> = {}): Promise<GitTestbed> {
  const kiln = await startTestKiln({ env });
  const base = await listen(kiln);
  const owner = await kiln.signup();
  const token = await apiToken(owner);
  const created = await owner.client.post("/api/orgs", { name: "Git", slug: uniqueSlug("git") });
  if (created.statusCode !== 201) throw new Error(`org: ${created.statusCode} ${created.body}`);
  const org = created.json() as { id: string; slug: string };
  return {
    kiln,
    base,
    owner,
    token,
    org,
    async newProject() {
      const res = await owner.client.post(`/api/orgs/${org.slug}/projects`, {
        name: "Site",
        template: "static",
      });
      if (res.statusCode !== 201) throw new Error(`project: ${res.statusCode} ${res.body}`);
      const project = res.json() as { id: string; slug: string };
      const api = `/api/orgs/${org.slug}/projects/${project.slug}`;
      return { ...project, api, dir: kiln.storage.projectDir(org.id, project.id) };
    },
  };
}
