import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, readlink, rm, symlink } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hostGit, PRIVATE_TOKEN, startGitServer, type TestGitServer } from "../testing/git-server.ts";
import { type SignedUp, startTestKiln, type TestKiln, uniqueSlug } from "../testing/harness.ts";

/**
 * Import from a git URL (ADR 0025) against a real git host: `git http-backend` behind https with a CA of its
 * own (KILN_GIT_CA_FILE), reached from the sandbox through its egress filter (KILN_EGRESS_ALLOW names it).
 * What is refused leaves no project and no directory behind.
 */

let server: TestGitServer;
let kiln: TestKiln;
let owner: SignedUp;
let org: { id: string; slug: string };
const MAX_BYTES = 1024 * 1024;

beforeAll(async () => {
  server = await startGitServer();
  kiln = await startTestKiln({
    env: {
      KILN_EGRESS_ALLOW: `${server.host}:${server.port}`,
      KILN_GIT_CA_FILE: server.caFile,
      KILN_GIT_TRANSFER_MAX_BYTES: String(MAX_BYTES),
    },
  });
  owner = await kiln.signup();
  org = (await owner.client.post("/api/orgs", { name: "Git imports", slug: uniqueSlug("gitimp") })).json();
  await server.createRepo("vite-app", {
    "package.json": JSON.stringify({
      name: "x",
      dependencies: { react: "19" },
      devDependencies: { vite: "7" },
    }),
    "index.html": "<div id=root></div>",
    "src/main.jsx": "console.log('hello from git')\n",
  });
}, 120_000);
afterAll(async () => {
  await kiln?.stop();
  await server?.stop();
});

const importGit = (body: unknown) => owner.client.post(`/api/orgs/${org.slug}/git-imports`, body);

async function snapshot() {
  const projects = (await owner.client.get(`/api/orgs/${org.slug}/projects`)).json() as Array<{ id: string }>;
  const dirs = await readdir(path.join(kiln.storage.orgDir(org.id), "projects")).catch(() => []);
  return { projects: projects.map((p) => p.id).sort(), dirs: dirs.sort() };
}

describe("POST …/git-imports", () => {
  it("makes a project from an https URL: files checked out, history kept, template recognised, remote linked", async () => {
    const res = await importGit({ url: server.url("vite-app") });
    expect(res.statusCode, res.body).toBe(201);
    const { project, report } = res.json();
    expect(project.name).toBe("vite-app");
    expect(report).toMatchObject({ template: "react-vite", files: 3, history: "restored" });
    const api = `/api/orgs/${org.slug}/projects/${project.slug}`;
    const file = await owner.client.get(`${api}/files/content?path=src/main.jsx`);
    expect(file.json().content).toBe("console.log('hello from git')\n");
    const history = (await owner.client.get(`${api}/history`)).json();
    expect(history.checkpoints[0].message).toBe("first");
    const remote = (await owner.client.get(`${api}/remote`)).json().remote;
    expect(remote).toMatchObject({ url: server.url("vite-app"), branch: "main", ahead: 0, behind: 0 });
    expect(remote.remoteCommit).toBe(await server.tip("vite-app", "main"));
  });

  it("recognises a static site and a Node app, imports a named branch, and says what it could not recognise", async () => {
    await server.createRepo("notes", { "README.md": "# notes\n" }, "trunk");
    const unknown = await importGit({ url: server.url("notes"), name: "My notes" });
    expect(unknown.statusCode, unknown.body).toBe(201);
    expect(unknown.json().report.template).toBe("static");
    expect(unknown.json().report.notes.join("\n")).toMatch(/not recognised/);
    expect(unknown.json().project.name).toBe("My notes");

    await server.createRepo("api", { "package.json": '{"name":"api"}', "server.js": "" });
    await server.commitOutside("api", { "feature.js": "1" }, "feature", "main");
    const node = await importGit({ url: server.url("api"), branch: "main" });
    expect(node.statusCode, node.body).toBe(201);
    expect(node.json().report).toMatchObject({ template: "node-api", files: 3 });
  });

  it("a private repository: refused without its token, imported with it", async () => {
    await server.createRepo("secret-app", { "index.html": "<p>private</p>" });
    const url = `https://${server.host}:${server.port}/private/secret-app.git`;
    const before = await snapshot();
    const refused = await importGit({ url });
    expect(refused.statusCode, refused.body).toBe(502);
    expect(refused.json().error.code).toBe("git_auth_failed");
    const wrong = await importGit({ url, auth: { token: "not-the-token" } });
    expect(wrong.json().error.code).toBe("git_auth_failed");
    expect(wrong.body).not.toContain("not-the-token");
    expect(await snapshot()).toEqual(before);
    const ok = await importGit({ url, auth: { token: PRIVATE_TOKEN } });
    expect(ok.statusCode, ok.body).toBe(201);
    expect(ok.json().report.template).toBe("static");
  });

  it("refuses internal addresses, other schemes, redirects, non-git URLs and oversized repositories, leaving nothing", async () => {
    await server.createRepo("huge", { "blob.bin": randomBytes(MAX_BYTES * 2).toString("base64") });
    const before = await snapshot();
    const cases: Array<[string, number, string]> = [
      ["https://127.0.0.1/repo.git", 400, "egress_refused"],
      ["https://10.1.2.3/repo.git", 400, "egress_refused"],
      ["https://169.254.169.254/latest/meta-data.git", 400, "egress_refused"],
      ["https://[::1]/repo.git", 400, "egress_refused"],
      // The host's own address, on a port the operator did not exempt.
      [`https://${server.host}:1/repo.git`, 400, "egress_refused"],
      ["file:///etc/passwd", 400, "git_url_invalid"],
      ["ssh://git@example.com/repo.git", 400, "git_url_invalid"],
      ["ext::sh -c touch% /tmp/pwned", 400, "git_url_invalid"],
      ["http://example.com/repo.git", 400, "git_url_invalid"],
      ["git@example.com:team/repo.git", 400, "git_url_invalid"],
      [`https://user:pw@${server.host}:${server.port}/vite-app.git`, 400, "git_url_invalid"],
      [`https://${server.host}:${server.port}/redirect/vite-app.git`, 400, "egress_refused"],
      [`https://${server.host}:${server.port}/html/page`, 400, "not_a_git_repository"],
      [server.url("no-such-repo"), 400, "not_a_git_repository"],
      [server.url("huge"), 413, "git_repository_too_large"],
    ];
    for (const [url, status, code] of cases) {
      const res = await importGit({ url });
      expect({ url, status: res.statusCode, code: res.json().error?.code }).toEqual({ url, status, code });
    }
    const noBranch = await importGit({ url: server.url("vite-app"), branch: "nope" });
    expect(noBranch.json().error.code).toBe("remote_branch_not_found");
    expect(await snapshot()).toEqual(before);
  });

  it("a repository's links pointing out of the project stay links: nothing outside is read or written", async () => {
    await server.createRepo("links", { "index.html": "<p>hi</p>" });
    const work = await mkdtemp(path.join(os.tmpdir(), "kiln-links-"));
    try {
      await hostGit(work, ["clone", "-q", server.url("links").replace(/^https:\/\/[^/]+/, server.root), "."]);
      await symlink("/etc/passwd", path.join(work, "passwd"));
      await symlink("../../..", path.join(work, "up"));
      await hostGit(work, ["add", "-A"]);
      await hostGit(work, ["-c", "user.name=o", "-c", "user.email=o@x", "commit", "-q", "-m", "links"]);
      await hostGit(work, ["push", "-q", "origin", "HEAD:main"]);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
    const res = await importGit({ url: server.url("links") });
    expect(res.statusCode, res.body).toBe(201);
    const { project } = res.json();
    const dir = kiln.storage.projectDir(org.id, project.id);
    expect(await readlink(path.join(dir, "passwd"))).toBe("/etc/passwd");
    const api = `/api/orgs/${org.slug}/projects/${project.slug}`;
    const read = await owner.client.get(`${api}/files/content?path=passwd`);
    expect(read.statusCode).toBe(403);
    expect(read.body).not.toContain("root:");
    expect((await owner.client.get(`${api}/files/content?path=up/etc/passwd`)).statusCode).toBe(403);
  });

  it("a host that never answers ends in git_timeout, leaving nothing", async () => {
    const impatient = await startTestKiln({
      env: {
        KILN_EGRESS_ALLOW: `${server.host}:${server.port}`,
        KILN_GIT_CA_FILE: server.caFile,
        KILN_GIT_TIMEOUT_SECONDS: "3",
      },
    });
    try {
      const user = await impatient.signup();
      const slug = uniqueSlug("slow");
      await user.client.post("/api/orgs", { name: "Slow", slug });
      const res = await user.client.post(`/api/orgs/${slug}/git-imports`, {
        url: `https://${server.host}:${server.port}/slow/app.git`,
      });
      expect([res.statusCode, res.json().error?.code], res.body).toEqual([504, "git_timeout"]);
      expect((await user.client.get(`/api/orgs/${slug}/projects`)).json()).toEqual([]);
    } finally {
      await impatient.stop();
    }
  });

  it("refuses garbage and oversized bodies with validation errors", async () => {
    for (const body of [
      {},
      { url: 42 },
      { url: "x".repeat(2001) },
      { url: server.url("vite-app"), branch: "../../etc" },
      { url: server.url("vite-app"), branch: "-upload-pack=evil" },
      { url: server.url("vite-app"), auth: { token: "two words" } },
      { url: server.url("vite-app"), auth: { token: "t", username: "a:b" } },
      { url: server.url("vite-app"), extra: true },
    ]) {
      const res = await importGit(body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().error.code).toBe("validation_failed");
    }
  });
});
