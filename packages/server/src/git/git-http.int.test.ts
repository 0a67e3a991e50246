import { readFile, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import type { FileChange } from "@kiln/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  apiToken,
  type GitTestbed,
  git,
  join,
  remoteUrl,
  runGit,
  startGitTestbed,
  tempDir,
} from "../testing/git.ts";
import { type SignedUp, type TestKiln, uniqueSlug } from "../testing/harness.ts";

/**
 * `git clone` / `git push` with the real git CLI against a listening Kiln: tokens, roles, the working tree
 * a push to the checked-out branch updates, branches, job tokens.
 */

let kiln: TestKiln;
let base: string;
let owner: SignedUp;
let ownerToken: string;
let org: GitTestbed["org"];
let newProject: GitTestbed["newProject"];

beforeAll(async () => {
  ({ kiln, base, owner, token: ownerToken, org, newProject } = await startGitTestbed());
}, 120_000);

afterAll(() => kiln?.stop());

async function checkpoints(api: string): Promise<string[]> {
  const res = await owner.client.get(`${api}/history`);
  expect(res.statusCode).toBe(200);
  return res.json().checkpoints.map((c: { sha: string }) => c.sha);
}

/** Clones with `token`, commits `file` on `branch` and pushes it; returns git's result. */
async function commitAndPush(
  url: string,
  change: { file: string; content: string; branch?: string; from?: string },
) {
  const work = await tempDir("push");
  await git(["clone", "-q", url, work]);
  if (change.branch) await git(["checkout", "-q", "-b", change.branch], { cwd: work });
  await writeFile(path.join(work, change.file), change.content);
  await git(["add", "-A"], { cwd: work });
  await git(["commit", "-q", "-m", `change ${change.file}`], { cwd: work });
  const run = await runGit(["push", "origin", `HEAD:refs/heads/${change.branch ?? "main"}`], { cwd: work });
  const sha = (await git(["rev-parse", "HEAD"], { cwd: work })).trim();
  await rm(work, { recursive: true, force: true });
  return { ...run, sha };
}

describe("git clone", () => {
  it.each(["0", "2"])("with a valid token gets the project's files and history (protocol v%s)", async (v) => {
    const p = await newProject();
    const dir = await tempDir("clone");
    await git([
      "-c",
      `protocol.version=${v}`,
      "clone",
      "-q",
      remoteUrl(base, org.slug, p.slug, ownerToken),
      dir,
    ]);
    for (const file of ["index.html", "script.js", "style.css", "kiln.json"]) {
      expect(await readFile(path.join(dir, file), "utf8"), file).toBe(
        await readFile(path.join(p.dir, file), "utf8"),
      );
    }
    const log = (await git(["log", "--format=%H"], { cwd: dir })).trim().split("\n");
    expect(log).toEqual(await checkpoints(p.api));
    expect((await git(["rev-parse", "--abbrev-ref", "HEAD"], { cwd: dir })).trim()).toBe("main");
    await rm(dir, { recursive: true, force: true });
  });

  it("takes the project by id or slug, with or without .git, and the org by id or slug", async () => {
    const p = await newProject();
    for (const [o, project] of [
      [org.id, p.id],
      [org.slug, `${p.id}.git`],
      [org.id.toUpperCase(), p.slug],
    ]) {
      const url = new URL(`${base}/git/${o}/${project}`);
      url.username = "x";
      url.password = ownerToken;
      const run = await runGit(["ls-remote", url.toString()]);
      expect(run.stderr).toBe("");
      expect(run.stdout).toMatch(/^[0-9a-f]{40}\tHEAD\n[0-9a-f]{40}\trefs\/heads\/main\n$/);
    }
  });

  it("needs a valid token: none, a wrong one, a revoked one or a session cookie all get 401 with a Basic challenge", async () => {
    const p = await newProject();
    const dir = await tempDir("anon");
    const anonymous = await runGit(["clone", remoteUrl(base, org.slug, p.slug), path.join(dir, "a")]);
    expect(anonymous.code).not.toBe(0);
    expect(anonymous.stderr).toContain("terminal prompts disabled");
    const wrong = await runGit([
      "clone",
      remoteUrl(base, org.slug, p.slug, `kiln_pat_${"x".repeat(40)}`),
      path.join(dir, "b"),
    ]);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toContain("Authentication failed");
    expect(wrong.stderr).toContain("remote: API token is not valid");

    const revoked = await owner.client.post("/api/auth/tokens", { name: "soon revoked" });
    expect((await owner.client.delete(`/api/auth/tokens/${revoked.json().id}`)).statusCode).toBe(200);
    const afterRevoke = await runGit([
      "clone",
      remoteUrl(base, org.slug, p.slug, revoked.json().token),
      path.join(dir, "c"),
    ]);
    expect(afterRevoke.stderr).toContain("Authentication failed");

    const url = `${base}/git/${org.slug}/${p.slug}.git/info/refs?service=git-upload-pack`;
    const session = owner.client.cookies.get("kiln_at")!.value;
    for (const headers of [{}, { cookie: `kiln_at=${session}` }, { authorization: "Basic eDp5" }]) {
      const res = await fetch(url, { headers });
      expect(res.status, JSON.stringify(headers)).toBe(401);
      expect(res.headers.get("www-authenticate")).toBe('Basic realm="Kiln"');
      const body = (await res.json()) as { error: { code: string } };
      expect(body.error.code).toMatch(/^(unauthenticated|token_invalid)$/);
    }
    // The session's access token itself, sent as a credential, is accepted like any Kiln token.
    const bearer = await fetch(url, { headers: { authorization: `Bearer ${session}` } });
    expect(bearer.status).toBe(200);
    expect(bearer.headers.get("content-type")).toBe("application/x-git-upload-pack-advertisement");
    await bearer.arrayBuffer();
    await rm(dir, { recursive: true, force: true });
  });

  it("of another org's project is a 404 exactly like a missing one, and leaks nothing", async () => {
    const p = await newProject();
    const stranger = await kiln.signup();
    const strangerToken = await apiToken(stranger);
    const dir = await tempDir("foreign");
    const cloned = await runGit([
      "clone",
      remoteUrl(base, org.slug, p.slug, strangerToken),
      path.join(dir, "x"),
    ]);
    expect(cloned.code).not.toBe(0);
    expect(cloned.stderr).toContain("not found");

    const answer = async (o: string, project: string) => {
      const res = await fetch(`${base}/git/${o}/${project}/info/refs?service=git-upload-pack`, {
        headers: { authorization: `Basic ${Buffer.from(`u:${strangerToken}`).toString("base64")}` },
      });
      return { status: res.status, body: await res.text() };
    };
    const missing = await answer(uniqueSlug("nope"), "site");
    expect(missing.status).toBe(404);
    for (const [o, project] of [
      [org.slug, p.slug],
      [org.id, p.id],
      [org.slug, `${p.slug}.git`],
      [org.slug, "does-not-exist"],
    ]) {
      expect(await answer(o!, project!)).toEqual(missing);
    }
    // git clients get the same answer as text.
    const asGit = await fetch(`${base}/git/${org.slug}/${p.slug}/info/refs?service=git-upload-pack`, {
      headers: {
        authorization: `Basic ${Buffer.from(`u:${strangerToken}`).toString("base64")}`,
        "user-agent": "git/2.39.5",
      },
    });
    expect([asGit.status, asGit.headers.get("content-type"), await asGit.text()]).toEqual([
      404,
      "text/plain; charset=utf-8",
      "org not found\n",
    ]);
    await rm(dir, { recursive: true, force: true });
  });
});

describe("git push", () => {
  it("by a viewer is refused (403), though a viewer may clone", async () => {
    const p = await newProject();
    const viewer = await join(kiln, owner, org.slug, "viewer");
    const token = await apiToken(viewer);
    const before = await checkpoints(p.api);
    const dir = await tempDir("viewer");
    await git(["clone", "-q", remoteUrl(base, org.slug, p.slug, token), dir]);
    await writeFile(path.join(dir, "index.html"), "viewer was here\n");
    await git(["commit", "-qam", "nope"], { cwd: dir });
    const pushed = await runGit(["push", "origin", "HEAD:main"], { cwd: dir });
    expect(pushed.code).not.toBe(0);
    expect(pushed.stderr).toContain("403");
    expect(pushed.stderr).toContain("remote: your role (viewer) cannot do this; it needs developer");
    expect(await checkpoints(p.api)).toEqual(before);
    expect(await readFile(path.join(p.dir, "index.html"), "utf8")).not.toContain("viewer was here");
    await rm(dir, { recursive: true, force: true });
  });

  it("by a developer to main updates the project's files (owned by its sandbox user) and announces them", async () => {
    const p = await newProject();
    const developer = await join(kiln, owner, org.slug, "developer");
    const token = await apiToken(developer);
    const heard: FileChange[] = [];
    const off = kiln.fileEvents.on((c) => heard.push(c));
    const work = await tempDir("dev");
    await git(["clone", "-q", remoteUrl(base, org.slug, p.slug, token), work]);
    await writeFile(path.join(work, "index.html"), "<h1>pushed</h1>\n");
    await writeFile(path.join(work, "new.txt"), "new file\n");
    await rm(path.join(work, "script.js"));
    await git(["add", "-A"], { cwd: work });
    await git(["commit", "-qm", "Pushed from a laptop"], { cwd: work });
    const pushed = await runGit(["push", "origin", "main"], { cwd: work });
    off();
    expect(pushed.code, pushed.stderr).toBe(0);

    expect(await readFile(path.join(p.dir, "index.html"), "utf8")).toBe("<h1>pushed</h1>\n");
    expect(await readFile(path.join(p.dir, "new.txt"), "utf8")).toBe("new file\n");
    await expect(stat(path.join(p.dir, "script.js"))).rejects.toThrow();
    const uid = kiln.driver.workspaceOwner(p.id)?.uid;
    if (uid !== undefined) {
      expect((await stat(path.join(p.dir, "new.txt"))).uid).toBe(uid);
      expect((await stat(path.join(p.dir, "index.html"))).uid).toBe(uid);
    }
    expect(heard).toEqual([
      { orgId: org.id, projectId: p.id, kind: "written", paths: ["index.html", "new.txt"] },
      { orgId: org.id, projectId: p.id, kind: "deleted", paths: ["script.js"] },
    ]);
    const pushedSha = (await git(["rev-parse", "HEAD"], { cwd: work })).trim();
    expect((await checkpoints(p.api))[0]).toBe(pushedSha);
    // The working tree is clean again: a checkpoint right after has nothing to save.
    expect(await kiln.services.history.checkpoint({ orgId: org.id, projectId: p.id }, { message: "x" })).toBe(
      null,
    );
    await rm(work, { recursive: true, force: true });
  });

  it("to another branch stores the branch and leaves the working tree alone", async () => {
    const p = await newProject();
    const before = await readFile(path.join(p.dir, "index.html"), "utf8");
    const heard: FileChange[] = [];
    const off = kiln.fileEvents.on((c) => heard.push(c));
    const pushed = await commitAndPush(remoteUrl(base, org.slug, p.slug, ownerToken), {
      file: "index.html",
      content: "on a branch\n",
      branch: "kiln/task-12",
    });
    off();
    expect(pushed.code, pushed.stderr).toBe(0);
    expect(await readFile(path.join(p.dir, "index.html"), "utf8")).toBe(before);
    expect(heard).toEqual([]);
    const refs = await git(["ls-remote", remoteUrl(base, org.slug, p.slug, ownerToken)]);
    expect(refs).toContain(`${pushed.sha}\trefs/heads/kiln/task-12`);
  });

  it("to main while the working tree has uncommitted changes is refused by git, and nothing is lost", async () => {
    const p = await newProject();
    const edit = await owner.client.put(`${p.api}/files/content`, {
      path: "index.html",
      content: "unsaved\n",
    });
    expect(edit.statusCode).toBe(200);
    const before = await checkpoints(p.api);
    const pushed = await commitAndPush(remoteUrl(base, org.slug, p.slug, ownerToken), {
      file: "style.css",
      content: "body{}\n",
    });
    expect(pushed.code).not.toBe(0);
    expect(pushed.stderr).toMatch(
      /\[remote rejected\] HEAD -> main \(Working directory has unstaged changes\)/,
    );
    expect(await readFile(path.join(p.dir, "index.html"), "utf8")).toBe("unsaved\n");
    expect(await checkpoints(p.api)).toEqual(before);
  });
});

describe("job tokens", () => {
  it("clone their one project and push their job's branch, never its checked-out branch", async () => {
    const p = await newProject();
    const other = await newProject();
    const token = `job-${uniqueSlug("t")}`;
    kiln.services.git.access.useJobTokens({
      verify: async (t) => (t === token ? { orgId: org.id, projectId: p.id, branch: "kiln/task-1" } : null),
    });
    const url = remoteUrl(base, org.slug, p.slug, token);
    const branch = await commitAndPush(url, { file: "a.txt", content: "a\n", branch: "kiln/task-1" });
    expect(branch.code, branch.stderr).toBe(0);

    const before = await checkpoints(p.api);
    const main = await commitAndPush(url, { file: "b.txt", content: "b\n" });
    expect(main.code).not.toBe(0);
    expect(main.stderr).toContain("HTTP 403");
    expect(await checkpoints(p.api)).toEqual(before);

    const elsewhere = await runGit(["ls-remote", remoteUrl(base, org.slug, other.slug, token)]);
    expect(elsewhere.code).not.toBe(0);
    expect(elsewhere.stderr).toContain("not found");
    const wrong = await runGit(["ls-remote", remoteUrl(base, org.slug, p.slug, `${token}x`)]);
    expect(wrong.stderr).toContain("Authentication failed");
  });
});
