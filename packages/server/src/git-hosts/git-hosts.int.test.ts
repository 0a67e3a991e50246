import { randomUUID } from "node:crypto";
import { rm } from "node:fs/promises";
import type { GitHost } from "@kiln/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jobs } from "../db/schema-shared.ts";
import { type GitTestbed, git, remoteUrl, startGitTestbed, tempDir } from "../testing/git.ts";
import { startFakeGitea } from "../testing/git-hosts/gitea.ts";
import { startFakeGitHub } from "../testing/git-hosts/github.ts";
import { startFakeGitLab } from "../testing/git-hosts/gitlab.ts";
import type { FakeGitHost } from "../testing/git-hosts/http.ts";
import { startGitServer, type TestGitServer } from "../testing/git-server.ts";
import { uniqueSlug } from "../testing/harness.ts";

/**
 * A project with a connected git host (ADR 0028), against strict fakes of the hosts' REST APIs whose
 * repositories live on a real git server: create the repository from Kiln (linked, main pushed with the
 * saved token), open a pull request from a task's branch, import one of the host's repositories. The
 * saved token reaches only the host's git origin, as git's Authorization header.
 */

const TOKEN = "glpat-fake-token-for-tests-987654";
let server: TestGitServer;
let github: FakeGitHost;
let gitlab: FakeGitHost;
let gitea: FakeGitHost;
let bed: GitTestbed;
const hosts: Record<string, GitHost> = {};

beforeAll(async () => {
  server = await startGitServer();
  github = await startFakeGitHub(server, { token: TOKEN, login: "octo" });
  gitlab = await startFakeGitLab(server, { token: TOKEN, login: "tanuki" });
  gitea = await startFakeGitea(server, { token: TOKEN, login: "tea" });
  const allow = [github, gitlab, gitea].map((f) => new URL(f.apiUrl).host);
  bed = await startGitTestbed({
    KILN_EGRESS_ALLOW: [...allow, `${server.host}:${server.port}`].join(","),
    KILN_EXTRA_CA_FILE: server.caFile,
  });
  for (const [fake, kind] of [
    [github, "github"],
    [gitlab, "gitlab"],
    [gitea, "gitea"],
  ] as const) {
    const res = await bed.owner.client.post(`/api/orgs/${bed.org.slug}/git-hosts`, {
      kind,
      name: kind,
      token: TOKEN,
      apiUrl: fake.apiUrl,
      gitUrl: fake.gitUrl,
    });
    expect(res.statusCode, res.body).toBe(201);
    hosts[kind] = res.json();
  }
}, 120_000);

afterAll(async () => {
  await bed?.kiln.stop();
  for (const f of [github, gitlab, gitea]) await f?.close();
  await server?.stop();
});

/** git's Authorization header for the saved token, as each host documents the user name. */
function basic(user: string): string {
  return `Basic ${Buffer.from(`${user}:${TOKEN}`).toString("base64")}`;
}

/** A task with an agent's finished work on its branch, pushed and recorded as a worker does. */
async function taskWithWork(p: { id: string; slug: string; api: string }) {
  const task = (await bed.owner.client.post(`${p.api}/tasks`, { title: "About page" })).json();
  const branch = `kiln/task-${task.id}`;
  const work = await tempDir("pr-work");
  await git(["clone", "-q", remoteUrl(bed.base, bed.org.slug, p.slug, bed.token), work]);
  await git(["checkout", "-q", "-b", branch], { cwd: work });
  await git(
    [
      "-c",
      "user.name=Agent",
      "-c",
      "user.email=a@example.com",
      "commit",
      "-q",
      "--allow-empty",
      "-m",
      "about",
    ],
    {
      cwd: work,
    },
  );
  await git(["push", "-q", "origin", `HEAD:refs/heads/${branch}`], { cwd: work });
  await rm(work, { recursive: true, force: true });
  await bed.kiln.database.db.insert(jobs).values({
    id: randomUUID(),
    orgId: bed.org.id,
    projectId: p.id,
    taskId: task.id,
    kind: "implement",
    instructions: "Add an about page",
    state: "completed",
    maxAttempts: 1,
    result: { summary: "Added an about page.", branch, commit: null },
    finishedAt: new Date(),
  });
  return { task: task as { id: string; number: number }, branch };
}

describe("a project on a connected git host", () => {
  it("creates its repository on the host, links it and pushes main with the saved token; then a PR from a task", async () => {
    const p = await bed.newProject();
    const name = uniqueSlug("site");
    const made = await bed.owner.client.post(`${p.api}/remote/create-repository`, {
      host: hosts.github!.id,
      name,
      private: true,
    });
    expect(made.statusCode, made.body).toBe(201);
    expect(made.json()).toMatchObject({
      url: `${github.gitUrl}/octo/${name}.git`,
      host: hosts.github!.id,
      branch: "main",
      ahead: 0,
      behind: 0,
    });
    expect(github.calls).toContain("POST /user/repos");
    const tip = await server.tip(`octo/${name}`, "main");
    expect(tip).toBe(made.json().lastPushedCommit);
    expect(server.authorizations).toContain(basic("x-access-token"));
    expect(made.body).not.toContain(TOKEN);

    // The same name again: the host says it exists.
    const again = await bed.owner.client.post(`${p.api}/remote/create-repository`, {
      host: hosts.github!.id,
      name,
    });
    expect([again.statusCode, again.json().error?.code]).toEqual([409, "git_repository_exists"]);

    // A pull request from a task's branch: pushed with the saved token, opened with head and base.
    const { task, branch } = await taskWithWork(p);
    const pr = await bed.owner.client.post(`${p.api}/tasks/${task.id}/pull-request`, {});
    expect(pr.statusCode, pr.body).toBe(201);
    expect(pr.json()).toMatchObject({ head: branch, base: "main", number: 1 });
    expect(github.pulls).toEqual([
      {
        repository: `octo/${name}`,
        number: 1,
        head: branch,
        base: "main",
        title: `#${task.number}: About page`,
      },
    ]);
    expect(await server.tip(`octo/${name}`, branch)).toBeTruthy();
    const comments = (await bed.owner.client.get(`${p.api}/tasks/${task.id}/comments`)).json() as {
      body: string;
    }[];
    expect(comments.map((c) => c.body).join("\n")).toContain(pr.json().url);
    // Once is enough: the host refuses a second open request between the same branches.
    const twice = await bed.owner.client.post(`${p.api}/tasks/${task.id}/pull-request`, {});
    expect([twice.statusCode, twice.json().error?.code], twice.body).toEqual([409, "pull_request_exists"]);
  }, 90_000);

  it("opens a GitLab merge request from a linked project's task branch", async () => {
    await gitlab.addRepository("shop", { "index.html": "<h1>shop</h1>" });
    const p = await bed.newProject();
    const linked = await bed.owner.client.put(`${p.api}/remote`, {
      url: `${gitlab.gitUrl}/tanuki/shop.git`,
      host: hosts.gitlab!.id,
    });
    expect(linked.statusCode, linked.body).toBe(200);
    expect(server.authorizations).toContain(basic("oauth2"));
    const pulled = await bed.owner.client.post(`${p.api}/remote/pull`, { onConflict: "markers" });
    expect(pulled.statusCode, pulled.body).toBe(200);
    const pushed = await bed.owner.client.post(`${p.api}/remote/push`, {});
    expect(pushed.statusCode, pushed.body).toBe(200);
    const { task, branch } = await taskWithWork(p);
    const mr = await bed.owner.client.post(`${p.api}/tasks/${task.id}/pull-request`, { title: "About" });
    expect(mr.statusCode, mr.body).toBe(201);
    expect(gitlab.pulls.at(-1)).toMatchObject({
      repository: "tanuki/shop",
      head: branch,
      base: "main",
      title: "About",
    });
    expect(mr.json().url).toContain("/-/merge_requests/");
    const twice = await bed.owner.client.post(`${p.api}/tasks/${task.id}/pull-request`, {});
    expect([twice.statusCode, twice.json().error?.code], twice.body).toEqual([409, "pull_request_exists"]);
  }, 90_000);

  it("imports one of the host's repositories (listed first), linked with the saved token", async () => {
    await gitea.addRepository("blog", { "index.html": "<h1>blog</h1>", "about.html": "about" });
    const listed = await bed.owner.client.get(
      `/api/orgs/${bed.org.slug}/git-hosts/${hosts.gitea!.id}/repositories`,
    );
    expect(listed.json().map((r: { fullName: string }) => r.fullName)).toContain("tea/blog");
    const res = await bed.owner.client.post(
      `/api/orgs/${bed.org.slug}/git-hosts/${hosts.gitea!.id}/imports`,
      {
        repository: "tea/blog",
      },
    );
    expect(res.statusCode, res.body).toBe(201);
    const project = res.json().project as { slug: string };
    const api = `/api/orgs/${bed.org.slug}/projects/${project.slug}`;
    const file = await bed.owner.client.get(`${api}/files/content?path=about.html`);
    expect(file.json().content).toBe("about");
    expect((await bed.owner.client.get(`${api}/remote`)).json().remote).toMatchObject({
      host: hosts.gitea!.id,
      url: `${gitea.gitUrl}/tea/blog.git`,
    });
    expect(server.authorizations).toContain(basic("tea"));
  }, 90_000);

  it("never sends the saved token elsewhere, and refuses hostile input", async () => {
    const p = await bed.newProject();
    const base = `/api/orgs/${bed.org.slug}/git-hosts`;
    // A URL outside the host's git origin with the host's token: refused before any transfer.
    await server.createRepo("elsewhere", {});
    const off = await bed.owner.client.put(`${p.api}/remote`, {
      url: `https://${server.host}:${new URL(github.apiUrl).port}/elsewhere.git`,
      host: hosts.github!.id,
    });
    expect([off.statusCode, off.json().error?.code], off.body).toEqual([400, "git_url_not_on_host"]);
    const unknownHost = await bed.owner.client.put(`${p.api}/remote`, {
      url: server.url("elsewhere"),
      host: randomUUID(),
    });
    expect([unknownHost.statusCode, unknownHost.json().error?.code]).toEqual([404, "git_host_not_found"]);
    for (const repository of [
      "../../etc/passwd",
      "tea",
      "tea/blog?x=1",
      "a/b/../c",
      "tea/ blog",
      "x".repeat(400),
    ]) {
      const res = await bed.owner.client.post(`${base}/${hosts.gitea!.id}/imports`, { repository });
      expect(res.statusCode, `${repository}: ${res.body}`).toBe(400);
    }
    for (const name of ["../x", "a/b", "", "x.git", "x".repeat(200), ".."]) {
      const res = await bed.owner.client.post(`${p.api}/remote/create-repository`, {
        host: hosts.github!.id,
        name,
      });
      expect(res.statusCode, `${name}: ${res.body}`).toBe(400);
    }
    const noHost = await bed.owner.client.post(`${p.api}/remote/create-repository`, {
      host: randomUUID(),
      name: "ok",
    });
    expect([noHost.statusCode, noHost.json().error?.code]).toEqual([404, "git_host_not_found"]);
    // A task without agent work, and a project without a link.
    const task = (await bed.owner.client.post(`${p.api}/tasks`, { title: "Idle" })).json();
    const idle = await bed.owner.client.post(`${p.api}/tasks/${task.id}/pull-request`, {});
    expect([idle.statusCode, idle.json().error?.code]).toEqual([409, "task_branch_missing"]);
    const foreignTask = await bed.owner.client.post(`${p.api}/tasks/${randomUUID()}/pull-request`, {});
    expect(foreignTask.statusCode).toBe(404);
  }, 90_000);
});
