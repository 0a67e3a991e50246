import { randomUUID } from "node:crypto";
import { statSync } from "node:fs";
import path from "node:path";
import type { FileChange, Role } from "@kiln/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SignedUp, startTestKiln, type TestKiln, uniqueSlug } from "../testing/harness.ts";

/** The history API on the whole app: permissions, hostile ids, restore/undo round trips through HTTP. */

let kiln: TestKiln;
let owner: SignedUp;
let org: string;
let orgId: string;

beforeAll(async () => {
  kiln = await startTestKiln();
  owner = await kiln.signup();
  org = uniqueSlug("hist");
  const created = await owner.client.post("/api/orgs", { name: "History", slug: org });
  expect(created.statusCode).toBe(201);
  orgId = created.json().id;
}, 120_000);

afterAll(() => kiln?.stop());

async function newProject() {
  const res = await owner.client.post(`/api/orgs/${org}/projects`, { name: "Site", template: "static" });
  expect(res.statusCode).toBe(201);
  const project = res.json() as { id: string; slug: string };
  const base = `/api/orgs/${org}/projects/${project.slug}`;
  const write = async (p: string, content: string) => {
    const w = await owner.client.put(`${base}/files/content`, { path: p, content, createParents: true });
    expect(w.statusCode).toBe(200);
  };
  const read = async (p: string) =>
    (await owner.client.get(`${base}/files/content?path=${p}`)).json().content;
  return { ...project, base, write, read, dir: kiln.storage.projectDir(orgId, project.id) };
}

async function join(role: Role): Promise<SignedUp> {
  const member = await kiln.signup();
  const invited = await owner.client.post(`/api/orgs/${org}/invitations`, { email: member.user.email, role });
  const token = new URL(invited.json().url).pathname.split("/").at(-1);
  expect((await member.client.post(`/api/invitations/${token}/accept`)).statusCode).toBe(200);
  return member;
}

describe("history API", () => {
  it("lists, diffs, restores and undoes an agent turn, announcing the files it changed", async () => {
    const p = await newProject();
    const first = await owner.client.get(`${p.base}/history`);
    expect(first.statusCode).toBe(200);
    expect(first.json()).toMatchObject({
      checkpoints: [{ message: "Create project from the static template", parentSha: null }],
      nextBefore: null,
    });
    const created = first.json().checkpoints[0].sha as string;

    // An agent turn: files written, then the chat saves a checkpoint with its ids.
    const original = await p.read("index.html");
    await p.write("index.html", "<h1>Changed by the agent</h1>\n");
    await p.write("src/extra.js", "console.log(1);\n");
    const chatId = randomUUID();
    const messageId = randomUUID();
    const saved = await kiln.services.history.checkpoint(
      { org: { id: orgId }, projectId: p.id },
      { message: "Make the heading bigger", chatId, messageId },
    );
    expect(saved).toMatchObject({ chatId, messageId, filesChanged: 2 });

    const diff = await owner.client.get(`${p.base}/history/${saved!.sha}`);
    expect(diff.statusCode).toBe(200);
    expect(
      diff
        .json()
        .files.map((f: { path: string }) => f.path)
        .sort(),
    ).toEqual(["index.html", "src/extra.js"]);

    const heard: FileChange[] = [];
    const off = kiln.fileEvents.on((c) => heard.push(c));
    const undone = await owner.client.post(`${p.base}/undo`, { messageId });
    off();
    expect(undone.statusCode).toBe(200);
    expect(undone.json()).toMatchObject({ restoredTo: created, savedChanges: null });
    expect(await p.read("index.html")).toBe(original);
    expect((await owner.client.get(`${p.base}/files/content?path=src/extra.js`)).statusCode).toBe(404);
    expect(heard).toEqual([
      { orgId, projectId: p.id, kind: "written", paths: ["index.html"] },
      { orgId, projectId: p.id, kind: "deleted", paths: ["src/extra.js"] },
    ]);
    // What git wrote belongs to the project's sandbox user, like everything else in the workspace.
    const uid = kiln.driver.workspaceOwner(p.id)?.uid;
    if (uid !== undefined) expect(statSync(path.join(p.dir, "index.html")).uid).toBe(uid);

    // The undo is itself a commit; restoring the turn's checkpoint brings it back.
    const again = await owner.client.post(`${p.base}/history/${saved!.sha}/restore`, {});
    expect(again.statusCode).toBe(200);
    expect(await p.read("index.html")).toBe("<h1>Changed by the agent</h1>\n");
    const messages = (await owner.client.get(`${p.base}/history?limit=3`)).json();
    expect(messages.checkpoints.map((c: { message: string }) => c.message)).toEqual([
      `Restore to ${saved!.sha.slice(0, 7)}`,
      'Undo "Make the heading bigger"',
      "Make the heading bigger",
    ]);
    expect(messages.nextBefore).toBe(messages.checkpoints[2].sha);
    const rest = (await owner.client.get(`${p.base}/history?before=${messages.nextBefore}`)).json();
    expect(rest.checkpoints.map((c: { sha: string }) => c.sha)).toEqual([created]);
  });

  it("refuses a restore over unsaved edits (409) until forced, and then keeps them as a checkpoint", async () => {
    const p = await newProject();
    const created = (await owner.client.get(`${p.base}/history`)).json().checkpoints[0].sha;
    await p.write("index.html", "edited by hand\n");
    const refused = await owner.client.post(`${p.base}/history/${created}/restore`, {});
    expect([refused.statusCode, refused.json().error.code]).toEqual([409, "uncommitted_changes"]);
    expect(await p.read("index.html")).toBe("edited by hand\n");
    const forced = await owner.client.post(`${p.base}/history/${created}/restore`, { force: true });
    expect(forced.statusCode).toBe(200);
    const kept = forced.json().savedChanges;
    expect(kept.message).toBe("Uncommitted changes before restore");
    expect((await owner.client.post(`${p.base}/history/${kept.sha}/restore`, {})).statusCode).toBe(200);
    expect(await p.read("index.html")).toBe("edited by hand\n");
  });

  it("answers hostile, unknown and foreign commit ids with 400 or 404, and changes nothing", async () => {
    const p = await newProject();
    const other = await newProject();
    // Two projects made from one template in the same second share their first commit; a later one is theirs.
    await other.write("index.html", "other\n");
    const foreign = (await kiln.services.history.checkpoint(
      { orgId, projectId: other.id },
      { message: "x" },
    ))!.sha;
    const before = (await owner.client.get(`${p.base}/history`)).json();
    const bad = [
      "--upload-pack=touch%20%2Ftmp%2Fpwned",
      encodeURIComponent("HEAD~1; rm -rf /"),
      "HEAD",
      "not-hex-at-all",
      "abc",
      "a".repeat(65),
    ];
    for (const sha of bad) {
      for (const [method, url] of [
        ["GET", `${p.base}/history/${sha}`],
        ["POST", `${p.base}/history/${sha}/restore`],
        ["GET", `${p.base}/history?before=${sha}`],
      ] as const) {
        const res =
          method === "GET" ? await owner.client.get(url) : await owner.client.post(url, { force: true });
        expect([res.statusCode, res.json().error.code], `${method} ${url}`).toEqual([
          400,
          "validation_failed",
        ]);
      }
    }
    for (const sha of [foreign, "0".repeat(40), "deadbeefcafe"]) {
      const diff = await owner.client.get(`${p.base}/history/${sha}`);
      expect([diff.statusCode, diff.json().error.code]).toEqual([404, "checkpoint_not_found"]);
      const restore = await owner.client.post(`${p.base}/history/${sha}/restore`, { force: true });
      expect([restore.statusCode, restore.json().error.code]).toEqual([404, "checkpoint_not_found"]);
    }
    const undo = await owner.client.post(`${p.base}/undo`, { messageId: randomUUID() });
    expect([undo.statusCode, undo.json().error.code]).toEqual([404, "checkpoint_not_found"]);
    for (const body of [
      { messageId: "x; rm -rf /" },
      { messageId: randomUUID(), extra: 1 },
      { force: true },
    ]) {
      const res = await owner.client.post(`${p.base}/undo`, body);
      expect([res.statusCode, res.json().error.code]).toEqual([400, "validation_failed"]);
    }
    expect((await owner.client.get(`${p.base}/history`)).json()).toEqual(before);
  });

  it("lets viewers read history but only developers restore or undo", async () => {
    const p = await newProject();
    const sha = (await owner.client.get(`${p.base}/history`)).json().checkpoints[0].sha;
    const viewer = await join("viewer");
    expect((await viewer.client.get(`${p.base}/history`)).statusCode).toBe(200);
    expect((await viewer.client.get(`${p.base}/history/${sha}`)).statusCode).toBe(200);
    for (const res of [
      await viewer.client.post(`${p.base}/history/${sha}/restore`, {}),
      await viewer.client.post(`${p.base}/undo`, { messageId: randomUUID() }),
    ]) {
      expect([res.statusCode, res.json().error.code]).toEqual([403, "forbidden"]);
    }
    const developer = await join("developer");
    expect((await developer.client.post(`${p.base}/history/${sha}/restore`, {})).statusCode).toBe(200);
  });

  it("runs two restores of one project one after the other", async () => {
    const p = await newProject();
    const created = (await owner.client.get(`${p.base}/history`)).json().checkpoints[0].sha;
    const original = await p.read("index.html");
    await p.write("index.html", "turn\n");
    const turn = await kiln.services.history.checkpoint({ orgId, projectId: p.id }, { message: "turn" });
    await p.write("index.html", "later\n");
    await kiln.services.history.checkpoint({ orgId, projectId: p.id }, { message: "later" });
    const [one, two] = await Promise.all([
      owner.client.post(`${p.base}/history/${created}/restore`, {}),
      owner.client.post(`${p.base}/history/${turn!.sha}/restore`, {}),
    ]);
    expect([one.statusCode, two.statusCode]).toEqual([200, 200]);
    // Either may win the race; each is one whole commit, and the files are the last one's.
    const log = (await owner.client.get(`${p.base}/history`)).json().checkpoints;
    const restored = log.slice(0, 2).map((c: { restoredFrom: string | null }) => c.restoredFrom);
    expect([...restored].sort()).toEqual([created, turn!.sha].sort());
    expect(await p.read("index.html")).toBe(restored[0] === created ? original : "turn\n");
  });
});
