import { execFileSync } from "node:child_process";
import { lchown, mkdir, readdir, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ProjectRoot } from "../files/project-root.ts";
import { type SignedUp, startTestKiln, type TestKiln, uniqueSlug } from "../testing/harness.ts";
import { readZip } from "../testing/zip.ts";
import { planExport } from "./export.ts";

/** Export: what a zip of a project holds, and what a hostile workspace cannot make it hold. */

let kiln: TestKiln;
let owner: SignedUp;
let org: { id: string; slug: string };

beforeAll(async () => {
  kiln = await startTestKiln();
  owner = await kiln.signup();
  org = (await owner.client.post("/api/orgs", { name: "Zips", slug: uniqueSlug("zips") })).json();
}, 120_000);
afterAll(() => kiln?.stop());

async function newProject(template = "static") {
  const res = await owner.client.post(`/api/orgs/${org.slug}/projects`, { name: "Zipped", template });
  expect(res.statusCode, res.body).toBe(201);
  const { id, slug } = res.json() as { id: string; slug: string };
  return {
    id,
    slug,
    api: `/api/orgs/${org.slug}/projects/${slug}`,
    dir: kiln.storage.projectDir(org.id, id),
  };
}

async function write(api: string, file: string, content: string): Promise<void> {
  const res = await owner.client.put(`${api}/files/content`, { path: file, content, createParents: true });
  expect(res.statusCode, res.body).toBe(200);
}

/** Made as the project's own code would: owned by its sandbox user (lchown: never follow what is planted). */
async function plant(p: { id: string; dir: string }, name: string, make: (at: string) => Promise<void>) {
  const at = path.join(p.dir, name);
  await make(at);
  const uid = kiln.driver.workspaceOwner(p.id);
  if (uid) await lchown(at, uid.uid, uid.gid).catch(() => {});
}

describe("GET …/export", () => {
  it("answers the project's files as an attachment zip, without dependencies, build output, .git or .kiln", async () => {
    const p = await newProject();
    await write(p.api, "src/app.js", "console.log(1)");
    await write(p.api, ".env", "SECRET=1");
    await write(p.api, "docs/deep/note.md", "# note");
    await plant(p, "node_modules", (at) => mkdir(at));
    await plant(p, "node_modules/dep.js", (at) => writeFile(at, "dep"));
    await plant(p, "dist", (at) => mkdir(at));
    await plant(p, "dist/bundle.js", (at) => writeFile(at, "built"));
    await plant(p, ".kiln", async (at) => void (await mkdir(at, { recursive: true })));
    await plant(p, ".kiln/state", (at) => writeFile(at, "kiln"));
    await plant(p, "src/node_modules", (at) => mkdir(at));
    await plant(p, "empty", (at) => mkdir(at));

    const res = await owner.client.get(`${p.api}/export`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers["content-type"]).toBe("application/zip");
    expect(res.headers["content-disposition"]).toBe(`attachment; filename="${p.slug}.zip"`);
    const zip = await readZip(res.rawPayload);
    expect(zip.get("src/app.js")?.content.toString()).toBe("console.log(1)");
    expect(zip.get(".env")?.content.toString()).toBe("SECRET=1");
    expect(zip.get("docs/deep/note.md")?.content.toString()).toBe("# note");
    expect(zip.get("index.html")?.type).toBe("file");
    expect(zip.get("empty")?.type).toBe("dir");
    const names = [...zip.keys()];
    for (const gone of ["node_modules", "dist", ".git", ".kiln", "src/node_modules"]) {
      expect(
        names.filter((n) => n === gone || n.startsWith(`${gone}/`)),
        gone,
      ).toEqual([]);
    }
  });

  it("keeps symlinks that stay inside as symlinks, and never follows or stores one that leads out", async () => {
    const p = await newProject();
    await write(p.api, "inside.txt", "inside");
    await write(p.api, "sub/keep.txt", "keep");
    await plant(p, "alias.txt", (at) => symlink("inside.txt", at));
    await plant(p, "sub/up.txt", (at) => symlink("../inside.txt", at));
    await plant(p, "shadow", (at) => symlink("/etc/shadow", at));
    await plant(p, "passwd", (at) => symlink("/etc/passwd", at));
    await plant(p, "escape", (at) => symlink("../../../../../../etc", at));
    await plant(p, "sub/escape.txt", (at) => symlink("../../x", at));
    await plant(p, "pipe", async (at) => void execFileSync("mkfifo", [at]));

    const res = await owner.client.get(`${p.api}/export`);
    expect(res.statusCode, res.body).toBe(200);
    const zip = await readZip(res.rawPayload);
    expect(zip.get("alias.txt")).toMatchObject({ type: "symlink", content: Buffer.from("inside.txt") });
    expect(zip.get("sub/up.txt")).toMatchObject({ type: "symlink", content: Buffer.from("../inside.txt") });
    for (const name of ["shadow", "passwd", "escape", "sub/escape.txt", "pipe"])
      expect(zip.has(name), name).toBe(false);
    // Nothing of the host's files, under any name.
    for (const entry of zip.values()) expect(entry.content.toString()).not.toMatch(/root:/);
  });

  it("adds the git history as <slug>.bundle with ?history=true, made in the sandbox, and leaves nothing behind", async () => {
    const p = await newProject();
    await write(p.api, "a.txt", "a");
    const res = await owner.client.get(`${p.api}/export?history=true`);
    expect(res.statusCode, res.body).toBe(200);
    const zip = await readZip(res.rawPayload);
    const bundle = zip.get(`${p.slug}.bundle`);
    expect(bundle?.content.subarray(0, 16).toString()).toMatch(/^# v[23] git bundle/);
    const left = await readdir(path.join(p.dir, ".kiln")).catch(() => []);
    expect(left.filter((n) => n.endsWith(".bundle"))).toEqual([]);
    // Without the flag there is none.
    const plain = await readZip((await owner.client.get(`${p.api}/export?history=false`)).rawPayload);
    expect(plain.has(`${p.slug}.bundle`)).toBe(false);
  });

  it("refuses with 413 payload_too_large before streaming when the project is over the limits", async () => {
    const p = await newProject();
    await write(p.api, "a.txt", "aaaa");
    await write(p.api, "b.txt", "bbbb");
    const root = await ProjectRoot.open(p.dir);
    const top = await root.openDir([]);
    try {
      const options = { excludeAnywhere: [".git"], excludeAtRoot: [] };
      await expect(planExport(root, top, { ...options, limits: { entries: 2 } })).rejects.toMatchObject({
        code: "payload_too_large",
      });
      await expect(planExport(root, top, { ...options, limits: { bytes: 5 } })).rejects.toMatchObject({
        code: "payload_too_large",
      });
      await expect(planExport(root, top, { ...options, limits: { fileBytes: 3 } })).rejects.toMatchObject({
        code: "payload_too_large",
      });
    } finally {
      await top.close();
    }
  });
});
