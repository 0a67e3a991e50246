import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGitServer, type TestGitServer } from "../testing/git-server.ts";
import { type SignedUp, startTestKiln, type TestKiln, uniqueSlug } from "../testing/harness.ts";

/**
 * A project linked to a remote on a real git host (ADR 0025): push, a change from outside, pull; a conflict
 * changes nothing until the user asks for the merge with conflict markers, and neither side's work is lost.
 */

let server: TestGitServer;
let kiln: TestKiln;
let owner: SignedUp;
let org: { id: string; slug: string };

beforeAll(async () => {
  server = await startGitServer();
  kiln = await startTestKiln({
    env: { KILN_EGRESS_ALLOW: `${server.host}:${server.port}`, KILN_GIT_CA_FILE: server.caFile },
  });
  owner = await kiln.signup();
  org = (await owner.client.post("/api/orgs", { name: "Git sync", slug: uniqueSlug("gitsync") })).json();
}, 120_000);
afterAll(async () => {
  await kiln?.stop();
  await server?.stop();
});

async function newProject(name: string) {
  const made = await owner.client.post(`/api/orgs/${org.slug}/projects`, { name, template: "static" });
  expect(made.statusCode, made.body).toBe(201);
  const project = made.json() as { id: string; slug: string };
  const api = `/api/orgs/${org.slug}/projects/${project.slug}`;
  return {
    ...project,
    api,
    write: async (file: string, content: string) => {
      const res = await owner.client.put(`${api}/files/content`, {
        path: file,
        content,
        createParents: true,
      });
      expect(res.statusCode, res.body).toBe(200);
    },
    read: async (file: string) => {
      const res = await owner.client.get(`${api}/files/content?path=${encodeURIComponent(file)}`);
      return res.statusCode === 200 ? (res.json().content as string) : undefined;
    },
  };
}

describe("a project's remote", () => {
  it("link → push → change from outside → pull: a conflict is reported untouched, then merged with both sides kept", async () => {
    await server.createRepo("shared", {});
    const p = await newProject("Synced");
    const linked = await owner.client.put(`${p.api}/remote`, { url: server.url("shared") });
    expect(linked.statusCode, linked.body).toBe(200);
    expect(linked.json()).toMatchObject({ branch: "main", remoteCommit: null });

    await p.write("notes.md", "title\nfirst line\n");
    const pushed = await owner.client.post(`${p.api}/remote/push`, {});
    expect(pushed.statusCode, pushed.body).toBe(200);
    expect(pushed.json()).toMatchObject({ outcome: "pushed", remoteBranch: "main" });
    expect(pushed.json().remote).toMatchObject({ ahead: 0, behind: 0 });
    expect(await server.tip("shared", "main")).toBe(pushed.json().commit);
    expect(await server.show("shared", "main", "notes.md")).toBe("title\nfirst line\n");
    const again = await owner.client.post(`${p.api}/remote/push`, {});
    expect(again.json().outcome).toBe("up-to-date");

    // Both sides change the same line; the outside also adds a file.
    await server.commitOutside(
      "shared",
      { "notes.md": "title\noutside line\n", "outside.txt": "o\n" },
      "outside",
    );
    await p.write("notes.md", "title\nkiln line\n");
    const fetched = await owner.client.post(`${p.api}/remote/fetch`, {});
    expect(fetched.statusCode, fetched.body).toBe(200);
    expect(fetched.json()).toMatchObject({ ahead: 0, behind: 1 });

    const rejected = await owner.client.post(`${p.api}/remote/push`, {});
    expect(rejected.statusCode, rejected.body).toBe(409);
    expect(rejected.json().error.code).toBe("push_rejected");

    const stopped = await owner.client.post(`${p.api}/remote/pull`, {});
    expect(stopped.statusCode, stopped.body).toBe(200);
    expect(stopped.json()).toMatchObject({ outcome: "conflict", conflicts: ["notes.md"], changedPaths: [] });
    expect(await p.read("notes.md")).toBe("title\nkiln line\n");
    expect(await p.read("outside.txt")).toBeUndefined();
    const state = (await owner.client.get(`${p.api}/remote`)).json().remote;
    expect(state.conflict).toMatchObject({ paths: ["notes.md"] });
    // The edit was saved as a checkpoint first: main has it, the remote does not.
    expect(state).toMatchObject({ ahead: 1, behind: 1 });

    const merged = await owner.client.post(`${p.api}/remote/pull`, { onConflict: "markers" });
    expect(merged.statusCode, merged.body).toBe(200);
    expect(merged.json()).toMatchObject({ outcome: "merged-with-conflicts", conflicts: ["notes.md"] });
    const marked = (await p.read("notes.md")) ?? "";
    expect(marked).toMatch(/^<<<<<<< /m);
    expect(marked).toContain("kiln line");
    expect(marked).toContain("outside line");
    expect(await p.read("outside.txt")).toBe("o\n");
    expect(merged.json().remote.conflict).toBeNull();

    // The user keeps both lines and pushes: the remote has both changes, its own commit as an ancestor.
    await p.write("notes.md", "title\nkiln line\noutside line\n");
    const resolved = await owner.client.post(`${p.api}/remote/push`, {});
    expect(resolved.statusCode, resolved.body).toBe(200);
    expect(await server.show("shared", "main", "notes.md")).toBe("title\nkiln line\noutside line\n");
    expect(await server.show("shared", "main", "outside.txt")).toBe("o\n");
    expect(resolved.json().remote).toMatchObject({ ahead: 0, behind: 0, conflict: null });
  });

  it("pull fast-forwards and merges changes to other files without asking", async () => {
    await server.createRepo("clean", { "a.txt": "a\n" });
    const p = await newProject("Clean pulls");
    expect((await owner.client.put(`${p.api}/remote`, { url: server.url("clean") })).statusCode).toBe(200);
    // Unrelated histories: the project's own first commit and the remote's; the first pull merges them.
    const first = await owner.client.post(`${p.api}/remote/pull`, {});
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json().outcome).toBe("merged");
    expect(await p.read("a.txt")).toBe("a\n");
    expect((await owner.client.post(`${p.api}/remote/push`, {})).statusCode).toBe(200);

    await server.commitOutside("clean", { "b.txt": "b\n" }, "b");
    const ff = await owner.client.post(`${p.api}/remote/pull`, {});
    expect(ff.json()).toMatchObject({ outcome: "fast-forward", changedPaths: ["b.txt"] });
    expect(await p.read("b.txt")).toBe("b\n");

    await server.commitOutside("clean", { "c.txt": "c\n" }, "c");
    await p.write("d.txt", "d\n");
    const both = await owner.client.post(`${p.api}/remote/pull`, {});
    expect(both.json()).toMatchObject({ outcome: "merged", savedChanges: true });
    expect(await p.read("c.txt")).toBe("c\n");
    expect(await p.read("d.txt")).toBe("d\n");
    const upToDate = await owner.client.post(`${p.api}/remote/pull`, {});
    expect(upToDate.json().outcome).toBe("up-to-date");
  });

  it("pushes a task branch to its own name; unknown branches, unlinked projects and garbage are refused", async () => {
    await server.createRepo("tasks", {});
    const p = await newProject("Tasks");
    expect((await owner.client.put(`${p.api}/remote`, { url: server.url("tasks") })).statusCode).toBe(200);
    const made = await kiln.driver.exec(
      { projectId: p.id, workspaceDir: kiln.storage.projectDir(org.id, p.id) },
      { argv: ["git", "-c", "safe.directory=*", "branch", "kiln/task-1"] },
    );
    expect(made.exitCode, made.stderr).toBe(0);
    const task = await owner.client.post(`${p.api}/remote/push`, { branch: "kiln/task-1" });
    expect(task.statusCode, task.body).toBe(200);
    expect(task.json()).toMatchObject({ branch: "kiln/task-1", remoteBranch: "kiln/task-1" });
    expect(await server.tip("tasks", "kiln/task-1")).toBe(task.json().commit);

    const missing = await owner.client.post(`${p.api}/remote/push`, { branch: "kiln/task-2" });
    expect(missing.statusCode, missing.body).toBe(404);
    expect(missing.json().error.code).toBe("branch_not_found");
    for (const body of [
      { branch: "../main" },
      { branch: "-f" },
      { branch: "a".repeat(300) },
      { onConflict: "theirs" },
      { auth: { token: "" } },
      { nope: 1 },
    ]) {
      const path = "onConflict" in body ? "pull" : "push";
      const res = await owner.client.post(`${p.api}/remote/${path}`, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
    }
    const badLink = await owner.client.put(`${p.api}/remote`, { url: "https://169.254.169.254/x.git" });
    expect(badLink.json().error.code).toBe("egress_refused");
    expect((await owner.client.get(`${p.api}/remote`)).json().remote.url).toBe(server.url("tasks"));

    expect((await owner.client.delete(`${p.api}/remote`)).statusCode).toBe(200);
    expect((await owner.client.get(`${p.api}/remote`)).json()).toEqual({ remote: null });
    for (const route of ["push", "pull", "fetch"]) {
      const res = await owner.client.post(`${p.api}/remote/${route}`, {});
      expect(res.statusCode, route).toBe(404);
      expect(res.json().error.code).toBe("remote_not_linked");
    }
    expect((await owner.client.delete(`${p.api}/remote`)).json().error.code).toBe("remote_not_linked");
  });
});
