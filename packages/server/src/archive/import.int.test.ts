import { randomBytes } from "node:crypto";
import { lstat, readdir, readFile, readlink } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { ZipArchive } from "archiver";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SignedUp, startTestKiln, type TestKiln, uniqueSlug } from "../testing/harness.ts";
import { buildZip, type RawEntry, readZip } from "../testing/zip.ts";
import { ProjectArchives } from "./service.ts";

/** Import: a zip becomes a new project, or is refused whole and leaves nothing behind. */

let kiln: TestKiln;
let owner: SignedUp;
let org: { id: string; slug: string };

beforeAll(async () => {
  kiln = await startTestKiln();
  owner = await kiln.signup();
  org = (await owner.client.post("/api/orgs", { name: "Imports", slug: uniqueSlug("imports") })).json();
}, 120_000);
afterAll(() => kiln?.stop());

const importUrl = (name: string) => `/api/orgs/${org.slug}/project-imports?name=${encodeURIComponent(name)}`;

function upload(zip: Buffer, name = "Imported") {
  return owner.client.request("POST", importUrl(name), zip, {
    headers: { "content-type": "application/zip" },
  });
}

async function projectDirs(): Promise<string[]> {
  return readdir(path.join(kiln.storage.orgDir(org.id), "projects")).catch(() => []);
}

async function snapshot() {
  const projects = (await owner.client.get(`/api/orgs/${org.slug}/projects`)).json() as Array<{ id: string }>;
  return { projects: projects.map((p) => p.id).sort(), dirs: (await projectDirs()).sort() };
}

async function filesOf(zip: Buffer): Promise<Record<string, string>> {
  const entries = await readZip(zip);
  return Object.fromEntries(
    [...entries]
      .filter(([, e]) => e.type !== "dir")
      .map(([name, e]) => [name, `${e.type}:${e.content.toString("base64")}`]),
  );
}

async function zipOf(files: Record<string, string>): Promise<Buffer> {
  const zip = new ZipArchive();
  const chunks: Buffer[] = [];
  zip.on("data", (c: Buffer) => chunks.push(c));
  const ended = new Promise((resolve) => zip.on("end", resolve));
  for (const [name, content] of Object.entries(files)) zip.append(content, { name });
  await zip.finalize();
  await ended;
  return Buffer.concat(chunks);
}

describe("POST …/project-imports", () => {
  it("round trip: a project exported with its history imports as a new project with the same files and history", async () => {
    const made = await owner.client.post(`/api/orgs/${org.slug}/projects`, {
      name: "Original",
      template: "static",
    });
    expect(made.statusCode, made.body).toBe(201);
    const api = `/api/orgs/${org.slug}/projects/${made.json().slug}`;
    for (const [file, content] of [
      ["src/app.js", "console.log('hi')"],
      ["docs/a b/ü.md", "unicode"],
    ]) {
      const res = await owner.client.put(`${api}/files/content`, {
        path: file,
        content,
        createParents: true,
      });
      expect(res.statusCode, res.body).toBe(200);
    }
    expect(
      await kiln.services.history.checkpoint(
        { orgId: org.id, projectId: made.json().id },
        { message: "second" },
      ),
    ).not.toBeNull();
    const exported = await owner.client.get(`${api}/export?history=true`);
    expect(exported.statusCode, exported.body).toBe(200);

    const res = await upload(exported.rawPayload, "Copy");
    expect(res.statusCode, res.body).toBe(201);
    const { project, report } = res.json();
    expect(project.name).toBe("Copy");
    expect(report).toMatchObject({ template: "static", history: "restored" });

    const copyApi = `/api/orgs/${org.slug}/projects/${project.slug}`;
    const again = await owner.client.get(`${copyApi}/export`);
    const original = await filesOf(exported.rawPayload);
    delete original[`${made.json().slug}.bundle`];
    expect(await filesOf(again.rawPayload)).toEqual(original);

    // The original's checkpoints, under the import's own.
    const before = (await owner.client.get(`${api}/history`))
      .json()
      .checkpoints.map((c: { sha: string }) => c.sha);
    const after = (await owner.client.get(`${copyApi}/history`))
      .json()
      .checkpoints.map((c: { sha: string }) => c.sha);
    expect(after.slice(-before.length)).toEqual(before);

    // Files belong to the project's sandbox user.
    const uid = kiln.driver.workspaceOwner(project.id);
    const dir = kiln.storage.projectDir(org.id, project.id);
    if (uid) {
      for (const p of ["", "src", "src/app.js", "docs/a b/ü.md"])
        expect((await lstat(path.join(dir, p))).uid, p).toBe(uid.uid);
    }
  });

  it("recognises the template from the files, and says what it could not", async () => {
    const cases: Array<[Record<string, string>, string, boolean]> = [
      [
        {
          "package.json": JSON.stringify({ devDependencies: { vite: "^8", react: "^19" } }),
          "index.html": "x",
        },
        "react-vite",
        false,
      ],
      [
        { "package.json": JSON.stringify({ dependencies: { express: "5" } }), "server.js": "x" },
        "node-api",
        false,
      ],
      [{ "index.html": "<p>hi</p>", "style.css": "p{}" }, "static", false],
      [{ "notes.txt": "hello" }, "static", true],
    ];
    for (const [files, template, noted] of cases) {
      const res = await upload(await zipOf(files));
      expect(res.statusCode, res.body).toBe(201);
      expect(res.json().report.template).toBe(template);
      expect(res.json().report.notes.length > 0).toBe(noted);
      const dir = kiln.storage.projectDir(org.id, res.json().project.id);
      for (const [name, content] of Object.entries(files))
        expect(await readFile(path.join(dir, name), "utf8")).toBe(content);
    }
  });

  it("keeps a .bundle git cannot read as a file, and says so", async () => {
    const res = await upload(
      await zipOf({ "index.html": "x", "site.bundle": "# v2 git bundle\nnot really" }),
    );
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().report.history).toBe("kept-as-file");
    expect(res.json().report.notes.join("\n")).toContain("site.bundle");
    const dir = kiln.storage.projectDir(org.id, res.json().project.id);
    expect(await readFile(path.join(dir, "site.bundle"), "utf8")).toContain("not really");
  });

  it("keeps symlinks that stay inside, and leaves out .git, .kiln and node_modules entries", async () => {
    const zip = buildZip([
      { name: "index.html", data: Buffer.from("home") },
      { name: "alias.html", data: Buffer.from("index.html"), mode: 0o120777 },
      { name: ".git/config", data: Buffer.from("[core]\n\tfsmonitor = touch /tmp/pwned\n") },
      { name: "node_modules/x.js", data: Buffer.from("x") },
    ]);
    const res = await upload(zip);
    expect(res.statusCode, res.body).toBe(201);
    const dir = kiln.storage.projectDir(org.id, res.json().project.id);
    expect(await readlink(path.join(dir, "alias.html"))).toBe("index.html");
    await expect(lstat(path.join(dir, "node_modules"))).rejects.toThrow();
    // .git is the import's own repository, not the zip's config.
    expect(await readFile(path.join(dir, ".git", "config"), "utf8")).not.toContain("pwned");
  });

  const zeros = Buffer.alloc(4 * 1024 * 1024);
  const hostile: Array<[string, () => Buffer, number, string]> = [
    [
      "a ../ traversal",
      () => buildZip([{ name: "../evil.txt", data: Buffer.from("x") }]),
      400,
      "archive_unsafe",
    ],
    [
      "a traversal inside",
      () => buildZip([{ name: "a/../../evil.txt", data: Buffer.from("x") }]),
      400,
      "archive_unsafe",
    ],
    [
      "an absolute path",
      () => buildZip([{ name: "/etc/evil", data: Buffer.from("x") }]),
      400,
      "archive_unsafe",
    ],
    [
      "a backslash path",
      () => buildZip([{ name: "..\\evil.txt", data: Buffer.from("x") }]),
      400,
      "archive_unsafe",
    ],
    [
      "a drive letter",
      () => buildZip([{ name: "C:/evil.txt", data: Buffer.from("x") }]),
      400,
      "archive_unsafe",
    ],
    [
      "a symlink to /etc",
      () => buildZip([{ name: "etc", data: Buffer.from("/etc"), mode: 0o120777 }]),
      400,
      "archive_unsafe",
    ],
    [
      "a symlink out by ..",
      () => buildZip([{ name: "up/link", data: Buffer.from("../../../etc/shadow"), mode: 0o120777 }]),
      400,
      "archive_unsafe",
    ],
    [
      "a file through a symlinked directory",
      () =>
        buildZip([
          { name: "d", data: Buffer.from("sub"), mode: 0o120777 },
          { name: "sub/", mode: 0o040755 },
          { name: "d/x.txt", data: Buffer.from("x") },
        ]),
      400,
      "archive_unsafe",
    ],
    [
      "names differing only in case",
      () =>
        buildZip([
          { name: "A.txt", data: Buffer.from("1") },
          { name: "a.txt", data: Buffer.from("2") },
        ]),
      400,
      "archive_unsafe",
    ],
    [
      "a file and a directory of one name",
      () =>
        buildZip([
          { name: "a", data: Buffer.from("1") },
          { name: "a/b", data: Buffer.from("2") },
        ]),
      400,
      "archive_unsafe",
    ],
    ["a FIFO", () => buildZip([{ name: "pipe", mode: 0o010644 }]), 400, "archive_unsafe"],
    [
      "a zip bomb (ratio)",
      () => buildZip([{ name: "zeros.bin", data: zeros, deflate: true }]),
      400,
      "archive_unsafe",
    ],
    [
      "10k entries",
      () =>
        buildZip(
          Array.from({ length: 10_001 }, (_, i): RawEntry => ({ name: `f${i}.txt`, data: Buffer.from("x") })),
        ),
      400,
      "archive_unsafe",
    ],
    [
      "an encrypted entry",
      () => buildZip([{ name: "secret.txt", data: Buffer.from("x"), encrypted: true }]),
      400,
      "archive_invalid",
    ],
    [
      "garbage bytes",
      () => Buffer.from("this is not a zip at all, just bytes".repeat(10)),
      400,
      "archive_invalid",
    ],
    ["an empty body", () => Buffer.alloc(0), 400, "archive_invalid"],
    [
      "an entry larger than it declares (caught while writing)",
      () =>
        buildZip([
          { name: "index.html", data: Buffer.from("fine") },
          { name: "z/liar.txt", data: Buffer.from("x".repeat(5000)), deflate: true, declaredSize: 10 },
        ]),
      400,
      "archive_invalid",
    ],
  ];

  it.each(hostile)("refuses %s, leaving no project and no files", async (_, make, status, code) => {
    const before = await snapshot();
    const res = await upload(make());
    expect([res.statusCode, res.json().error?.code], res.body).toEqual([status, code]);
    expect(await snapshot()).toEqual(before);
    expect(await readdir(path.join(kiln.dataDir, "tmp", "imports")).catch(() => [])).toEqual([]);
  });

  it("answers 415 to anything but a zip body", async () => {
    const res = await owner.client.post(importUrl("X"), { zip: "no" });
    expect([res.statusCode, res.json().error.code]).toEqual([415, "unsupported_media_type"]);
  });

  it("refuses an upload over the size limit (413) by its content-length, or once that many bytes came, leaving nothing", async () => {
    const { services } = kiln;
    const small = new ProjectArchives({
      projects: services.projects,
      storage: kiln.storage,
      history: services.history,
      manifestOf: () => undefined,
      ownerOf: (id) => kiln.driver.workspaceOwner(id),
      spoolDir: path.join(kiln.dataDir, "tmp", "imports"),
      limits: { uploadBytes: 1000 },
    });
    const access = await services.orgs.access(owner.user.id, org.slug);
    // Random bytes do not compress: the zip is larger than the limit.
    const zip = await zipOf({ "noise.txt": randomBytes(3000).toString("base64") });
    expect(zip.length).toBeGreaterThan(1000);
    const before = await snapshot();
    await expect(small.import(access, "Big", Readable.from([zip]), String(zip.length))).rejects.toMatchObject(
      {
        code: "payload_too_large",
      },
    );
    // A client that says nothing (or lies) about its length is cut off at the limit.
    await expect(small.import(access, "Big", Readable.from([zip]), undefined)).rejects.toMatchObject({
      code: "payload_too_large",
    });
    expect(await snapshot()).toEqual(before);
    expect(await readdir(path.join(kiln.dataDir, "tmp", "imports")).catch(() => [])).toEqual([]);
  });
});
