import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { link, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { FileChange, Role } from "@kiln/protocol";
import type { LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestClient } from "../testing/client.ts";
import { type SignedUp, startTestKiln, type TestKiln, uniqueSlug } from "../testing/harness.ts";
import { atomicWrite, openFileForRead, ProjectRoot } from "./project-root.ts";

let kiln: TestKiln;
let owner: SignedUp;
let org: { id: string; slug: string };
let project: { id: string; slug: string };
let sibling: { id: string; slug: string };
/** Project A's directory on disk, and a directory outside every project holding a decoy. */
let dir: string;
let siblingDir: string;
let outside: string;
const changes: FileChange[] = [];

const MARKER = "kiln-secret-marker";

beforeAll(async () => {
  kiln = await startTestKiln();
  kiln.fileEvents.on((c) => changes.push(c));
  owner = await kiln.signup();
  const created = await owner.client.post("/api/orgs", { name: "Files", slug: uniqueSlug("files") });
  org = created.json();
  project = (await owner.client.post(`/api/orgs/${org.slug}/projects`, { name: "Main" })).json();
  sibling = (await owner.client.post(`/api/orgs/${org.slug}/projects`, { name: "Sibling" })).json();
  dir = kiln.storage.projectDir(org.id, project.id);
  siblingDir = kiln.storage.projectDir(org.id, sibling.id);
  // Projects start from a template; these tests want to know every file there is.
  for (const d of [dir, siblingDir]) {
    for (const name of await readdir(d)) await rm(path.join(d, name), { recursive: true, force: true });
  }
  await writeFile(path.join(siblingDir, "secret.txt"), `${MARKER} sibling\n`);
  outside = await mkdtemp(path.join(os.tmpdir(), "kiln-outside-"));
  await writeFile(path.join(outside, "decoy.txt"), `${MARKER} outside\n`);
});
afterAll(async () => {
  await kiln?.stop();
  if (outside) await rm(outside, { recursive: true, force: true });
});

const files = (p = project.slug, o = org.slug) => `/api/orgs/${o}/projects/${p}/files`;
const qs = (params: Record<string, string | number | boolean>) =>
  new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)] as [string, string])).toString();

function code(res: LightMyRequestResponse): string | undefined {
  try {
    return res.json()?.error?.code;
  } catch {
    return undefined;
  }
}
const outcome = (res: LightMyRequestResponse) => [res.statusCode, code(res)];

const read = (c: TestClient, p: string, extra: Record<string, string | number> = {}) =>
  c.get(`${files()}/content?${qs({ path: p, ...extra })}`);
const write = (c: TestClient, body: Record<string, unknown>) => c.put(`${files()}/content`, body);
const tree = (c: TestClient, extra: Record<string, string | number | boolean> = {}) =>
  c.get(`${files()}/tree?${qs(extra)}`);
const search = (c: TestClient, query: string, extra: Record<string, string | number | boolean> = {}) =>
  c.get(`${files()}/search?${qs({ query, ...extra })}`);
const del = (c: TestClient, p: string, recursive = false) =>
  c.delete(`${files()}?${qs({ path: p, recursive })}`);

async function join(role: Role): Promise<SignedUp> {
  const member = await kiln.signup();
  const invited = await owner.client.post(`/api/orgs/${org.slug}/invitations`, {
    email: member.user.email,
    role,
  });
  const token = new URL(invited.json().url).pathname.split("/").at(-1);
  expect((await member.client.post(`/api/invitations/${token}/accept`)).statusCode).toBe(200);
  return member;
}

describe("the file API", () => {
  it("writes, reads, lists, moves, searches and deletes, and says so on the bus", async () => {
    const c = owner.client;
    changes.length = 0;
    const made = await c.post(`${files()}/directories`, { path: "src/lib", parents: true });
    expect([made.statusCode, made.json().type]).toEqual([201, "directory"]);
    expect(outcome(await c.post(`${files()}/directories`, { path: "src/lib" }))).toEqual([
      409,
      "file_exists",
    ]);

    const written = await write(c, {
      path: "src/lib/hello.ts",
      content: "export const hi = 1;\n// TODO x\n",
    });
    expect(written.statusCode).toBe(200);
    expect(written.json()).toMatchObject({ path: "src/lib/hello.ts", type: "file", size: 31 });
    expect(written.json().version).toMatch(/^[0-9a-f]{64}$/);
    expect(await readFile(path.join(dir, "src/lib/hello.ts"), "utf8")).toBe(
      "export const hi = 1;\n// TODO x\n",
    );

    const missingParent = await write(c, { path: "deep/er/file.txt", content: "x" });
    expect(outcome(missingParent)).toEqual([404, "file_not_found"]);
    const withParents = await write(c, { path: "deep/er/file.txt", content: "x", createParents: true });
    expect(withParents.statusCode).toBe(200);

    const got = await read(c, "src/lib/hello.ts");
    expect(got.json()).toMatchObject({
      encoding: "utf8",
      content: "export const hi = 1;\n// TODO x\n",
      totalLines: 2,
      version: written.json().version,
    });

    const listed = await tree(c);
    expect(listed.statusCode).toBe(200);
    expect(listed.json().truncated).toBe(false);
    const paths = listed.json().entries.map((e: { path: string }) => e.path);
    expect(paths).toEqual(
      expect.arrayContaining(["src", "src/lib", "src/lib/hello.ts", "deep", "deep/er", "deep/er/file.txt"]),
    );
    const entry = listed.json().entries.find((e: { path: string }) => e.path === "src/lib/hello.ts");
    expect(entry).toMatchObject({ type: "file", size: 31 });
    expect(Date.parse(entry.mtime)).toBeGreaterThan(0);
    const sub = (await tree(c, { path: "src" })).json();
    expect(sub.entries.map((e: { path: string }) => e.path)).toEqual(["src/lib", "src/lib/hello.ts"]);
    const capped = (await tree(c, { maxEntries: 2 })).json();
    expect([capped.entries.length, capped.truncated]).toEqual([2, true]);

    const byContent = (await search(c, "todo")).json();
    expect(byContent.matches).toEqual([{ path: "src/lib/hello.ts", line: 2, text: "// TODO x" }]);
    const byRegex = (await search(c, "^export\\s+const", { regex: true })).json();
    expect(byRegex.matches).toEqual([{ path: "src/lib/hello.ts", line: 1, text: "export const hi = 1;" }]);
    expect((await search(c, "todo", { caseSensitive: true })).json().matches).toEqual([]);
    const byName = (await search(c, "*.ts", { mode: "name" })).json();
    expect(byName.matches).toEqual([{ path: "src/lib/hello.ts" }]);
    expect((await search(c, "HELLO", { mode: "name" })).json().matches).toEqual([
      { path: "src/lib/hello.ts" },
    ]);

    const moved = await c.post(`${files()}/move`, { from: "src/lib/hello.ts", to: "src/hello.ts" });
    expect([moved.statusCode, moved.json().path]).toEqual([200, "src/hello.ts"]);
    expect(existsSync(path.join(dir, "src/lib/hello.ts"))).toBe(false);
    expect(
      outcome(await c.post(`${files()}/move`, { from: "deep/er/file.txt", to: "src/hello.ts" })),
    ).toEqual([409, "file_exists"]);
    const replaced = await c.post(`${files()}/move`, {
      from: "deep/er/file.txt",
      to: "src/hello.ts",
      overwrite: true,
    });
    expect(replaced.statusCode).toBe(200);
    expect(await readFile(path.join(dir, "src/hello.ts"), "utf8")).toBe("x");
    const movedDir = await c.post(`${files()}/move`, { from: "deep", to: "src/lib/deep" });
    expect(movedDir.json().type).toBe("directory");
    expect(outcome(await c.post(`${files()}/move`, { from: "src", to: "src/lib/inner" }))).toEqual([
      400,
      "path_invalid",
    ]);

    expect(outcome(await del(c, "src"))).toEqual([409, "directory_not_empty"]);
    expect((await del(c, "src/hello.ts")).json()).toEqual({ ok: true });
    expect((await del(c, "src", true)).statusCode).toBe(200);
    expect(existsSync(path.join(dir, "src"))).toBe(false);
    expect(outcome(await del(c, "src"))).toEqual([404, "file_not_found"]);
    expect(outcome(await read(c, "src/hello.ts"))).toEqual([404, "file_not_found"]);

    expect(changes.map((ch) => [ch.kind, ch.paths])).toEqual([
      ["directory-created", ["src/lib"]],
      ["written", ["src/lib/hello.ts"]],
      ["written", ["deep/er/file.txt"]],
      ["moved", ["src/lib/hello.ts", "src/hello.ts"]],
      ["moved", ["deep/er/file.txt", "src/hello.ts"]],
      ["moved", ["deep", "src/lib/deep"]],
      ["deleted", ["src/hello.ts"]],
      ["deleted", ["src"]],
    ]);
    expect(changes.every((ch) => ch.orgId === org.id && ch.projectId === project.id)).toBe(true);
  });

  it("reads a range of lines for the agent", async () => {
    const c = owner.client;
    await write(c, { path: "lines.txt", content: "one\ntwo\nthree\nfour\n" });
    const mid = (await read(c, "lines.txt", { startLine: 2, endLine: 3 })).json();
    expect(mid).toMatchObject({ content: "two\nthree", startLine: 2, endLine: 3, totalLines: 4 });
    expect((await read(c, "lines.txt", { startLine: 4 })).json().content).toBe("four");
    expect((await read(c, "lines.txt", { startLine: 9 })).json().content).toBe("");
    expect(outcome(await read(c, "lines.txt", { startLine: 3, endLine: 2 }))).toEqual([
      400,
      "validation_failed",
    ]);
    expect(outcome(await read(c, "lines.txt", { startLine: 0 }))).toEqual([400, "validation_failed"]);
  });

  it("returns binary files as base64, or refuses them as text", async () => {
    const c = owner.client;
    const bytes = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0xff, 0xfe, 0x01]);
    const w = await write(c, { path: "img.png", content: bytes.toString("base64"), encoding: "base64" });
    expect(w.statusCode).toBe(200);
    expect(await readFile(path.join(dir, "img.png"))).toEqual(bytes);
    const auto = (await read(c, "img.png")).json();
    expect([auto.encoding, Buffer.from(auto.content, "base64")]).toEqual(["base64", bytes]);
    expect(outcome(await read(c, "img.png", { encoding: "utf8" }))).toEqual([415, "file_binary"]);
    expect(outcome(await read(c, "img.png", { startLine: 1 }))).toEqual([415, "file_binary"]);
    // Invalid UTF-8 without NUL is binary too.
    await writeFile(path.join(dir, "latin1.txt"), Buffer.from([0x63, 0x61, 0x66, 0xe9]));
    expect((await read(c, "latin1.txt")).json().encoding).toBe("base64");
    // A text file can be fetched as base64 on request.
    expect((await read(c, "lines.txt", { encoding: "base64" })).json().encoding).toBe("base64");
    const garbage = await write(c, { path: "bad.bin", content: "not base64!", encoding: "base64" });
    expect(outcome(garbage)).toEqual([400, "validation_failed"]);
    expect(existsSync(path.join(dir, "bad.bin"))).toBe(false);
  });

  it("refuses to overwrite a file changed since it was read (409 file_changed), or one that exists", async () => {
    const c = owner.client;
    const first = (await write(c, { path: "etag.txt", content: "v1" })).json();
    const second = await write(c, { path: "etag.txt", content: "v2", expectedVersion: first.version });
    expect(second.statusCode).toBe(200);
    const stale = await write(c, { path: "etag.txt", content: "v3", expectedVersion: first.version });
    expect(outcome(stale)).toEqual([409, "file_changed"]);
    expect(stale.json().error.details).toEqual({
      expectedVersion: first.version,
      currentVersion: second.json().version,
    });
    expect(await readFile(path.join(dir, "etag.txt"), "utf8")).toBe("v2");
    // Two writers holding the same version: exactly one wins.
    const current = second.json().version;
    const racing = await Promise.all(
      ["a", "b", "c"].map((content) => write(c, { path: "etag.txt", content, expectedVersion: current })),
    );
    expect(racing.map((r) => r.statusCode).sort()).toEqual([200, 409, 409]);
    const winner = racing.find((r) => r.statusCode === 200)!.json();
    expect((await read(c, "etag.txt")).json().version).toBe(winner.version);
    await write(c, { path: "etag.txt", content: "v2" });
    const gone = await write(c, { path: "never.txt", content: "x", expectedVersion: first.version });
    expect(outcome(gone)).toEqual([409, "file_changed"]);
    expect(outcome(await write(c, { path: "etag.txt", content: "x", createOnly: true }))).toEqual([
      409,
      "file_exists",
    ]);
    expect(outcome(await write(c, { path: "lines.txt/x", content: "x" }))).toEqual([400, "not_a_directory"]);
    await mkdir(path.join(dir, "adir"), { recursive: true });
    expect(outcome(await write(c, { path: "adir", content: "x" }))).toEqual([400, "is_a_directory"]);
    expect(outcome(await read(c, "adir"))).toEqual([400, "is_a_directory"]);
  });

  it("caps file sizes on write and read", async () => {
    const c = owner.client;
    const max = kiln.services.files.limits.maxFileBytes;
    expect((await write(c, { path: "big.txt", content: "x".repeat(max) })).statusCode).toBe(200);
    expect((await read(c, "big.txt")).json().size).toBe(max);
    const over = await write(c, { path: "big.txt", content: "y".repeat(max + 1) });
    expect(outcome(over)).toEqual([413, "file_too_large"]);
    const overB64 = await write(c, {
      path: "big.bin",
      content: Buffer.alloc(max + 1).toString("base64"),
      encoding: "base64",
    });
    expect(outcome(overB64)).toEqual([413, "file_too_large"]);
    await writeFile(path.join(dir, "huge.txt"), Buffer.alloc(max + 1, 0x61));
    expect(outcome(await read(c, "huge.txt"))).toEqual([413, "file_too_large"]);
    // A body far over the write route's own limit is refused before it is parsed.
    const flood = await c.put(`${files()}/content`, undefined, {
      raw: JSON.stringify({ path: "flood.txt", content: "z".repeat(max * 2) }),
    });
    expect(outcome(flood)).toEqual([413, "payload_too_large"]);
    expect(existsSync(path.join(dir, "flood.txt"))).toBe(false);
  });
});

describe("atomic writes", () => {
  it("never show a reader a partial file", async () => {
    const c = owner.client;
    const size = 1024 * 1024;
    const versions = ["a", "b"].map((ch) => ch.repeat(size));
    await write(c, { path: "atomic.txt", content: versions[0] });
    let writing = true;
    const seen = new Set<string>();
    const reader = (async () => {
      let reads = 0;
      while (writing || reads < 20) {
        const text = await readFile(path.join(dir, "atomic.txt"), "utf8");
        seen.add(text.length === size && /^(a+|b+)$/.test(text) ? text[0]! : `torn:${text.length}`);
        reads++;
      }
      return reads;
    })();
    for (let i = 0; i < 12; i++) {
      expect((await write(c, { path: "atomic.txt", content: versions[i % 2] })).statusCode).toBe(200);
    }
    writing = false;
    expect(await reader).toBeGreaterThan(0);
    expect([...seen].filter((s) => s.startsWith("torn"))).toEqual([]);
    expect((await readdir(dir)).filter((n) => n.includes(".kiln-"))).toEqual([]);
  });

  it("remove their temp file when the final rename fails", async () => {
    await mkdir(path.join(dir, "occupied", "child"), { recursive: true });
    const root = await ProjectRoot.open(dir);
    const parent = await root.openDir([]);
    try {
      // Renaming a file over a non-empty directory fails after the temp file is complete.
      await expect(atomicWrite(parent, "occupied", Buffer.from("x"), 0o644, undefined)).rejects.toThrow();
    } finally {
      await parent.close();
    }
    expect((await readdir(dir)).filter((n) => n.includes(".kiln-"))).toEqual([]);
    expect(existsSync(path.join(dir, "occupied", "child"))).toBe(true);
  });
});

describe("paths", () => {
  const BAD = [
    "../x",
    "../../etc/passwd",
    "a/../../x",
    "/etc/passwd",
    "./a",
    "a//b",
    "a\\..\\..\\x",
    "a\u0000b",
    "\uff0e\uff0e/\uff0e\uff0e/etc/passwd",
    "\u2025/etc",
    "x".repeat(1025),
  ];

  it("refuses traversal, absolute paths, NUL, backslashes and lookalikes on every operation", async () => {
    const c = owner.client;
    const failures: string[] = [];
    const check = async (what: string, res: Promise<LightMyRequestResponse>) => {
      const r = await res;
      if (r.statusCode !== 400 || !["path_invalid", "validation_failed"].includes(code(r) ?? "")) {
        failures.push(`${what} → ${r.statusCode} ${r.body.slice(0, 100)}`);
      }
    };
    for (const bad of BAD) {
      await check(`read ${bad}`, read(c, bad));
      await check(`tree ${bad}`, tree(c, { path: bad }));
      await check(`search ${bad}`, search(c, "root", { path: bad }));
      await check(`write ${bad}`, write(c, { path: bad, content: "pwned", createParents: true }));
      await check(`mkdir ${bad}`, c.post(`${files()}/directories`, { path: bad, parents: true }));
      await check(`move from ${bad}`, c.post(`${files()}/move`, { from: bad, to: "moved" }));
      await check(`move to ${bad}`, c.post(`${files()}/move`, { from: "lines.txt", to: bad }));
      await check(`delete ${bad}`, del(c, bad, true));
    }
    expect(failures).toEqual([]);
    expect(existsSync(path.join(dir, "lines.txt"))).toBe(true);
  });

  it("decodes a query string once, so encoded dots and slashes are still traversal", async () => {
    const c = owner.client;
    for (const raw of [
      "..%2f..%2fetc%2fpasswd",
      "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
      "%2fetc%2fpasswd",
      "a%00b",
    ]) {
      const res = await c.get(`${files()}/content?path=${raw}`);
      expect(outcome(res), raw).toEqual([400, "path_invalid"]);
    }
    // Double-encoded is a literal name inside the project: not found, not /etc/passwd.
    const literal = await c.get(`${files()}/content?path=%252e%252e%252fetc%252fpasswd`);
    expect(outcome(literal)).toEqual([404, "file_not_found"]);
  });

  it("keeps .git out of reach for reads and writes, and out of listings unless asked", async () => {
    const c = owner.client;
    await mkdir(path.join(dir, ".git"), { recursive: true });
    await writeFile(path.join(dir, ".git", "config"), "[core]\n");
    await mkdir(path.join(dir, "node_modules", "dep"), { recursive: true });
    await writeFile(path.join(dir, "node_modules", "dep", "index.js"), `// ${MARKER} dep\n`);
    for (const res of [
      await read(c, ".git/config"),
      await write(c, { path: ".git/hooks/pre-commit", content: "#!/bin/sh\n", createParents: true }),
      await write(c, { path: "sub/.GIT", content: "gitdir: /etc", createParents: true }),
      await c.post(`${files()}/directories`, { path: ".git/x" }),
      await c.post(`${files()}/move`, { from: "lines.txt", to: ".git/lines.txt" }),
      await c.post(`${files()}/move`, { from: ".git", to: "git-copy" }),
      await del(c, ".git", true),
      await tree(c, { path: ".git" }),
    ]) {
      expect(outcome(res)).toEqual([403, "path_reserved"]);
    }
    expect(existsSync(path.join(dir, ".git", "config"))).toBe(true);
    const plain = (await tree(c)).json().entries.map((e: { path: string }) => e.path);
    expect(plain).toEqual(expect.arrayContaining([".git", "node_modules"]));
    expect(plain.filter((p: string) => p.startsWith(".git/") || p.startsWith("node_modules/"))).toEqual([]);
    const all = (await tree(c, { includeIgnored: true })).json().entries.map((e: { path: string }) => e.path);
    expect(all).toEqual(expect.arrayContaining([".git/config", "node_modules/dep/index.js"]));
    expect((await search(c, MARKER)).json().matches).toEqual([]);
    expect((await search(c, MARKER, { includeIgnored: true })).json().matches).toEqual([
      { path: "node_modules/dep/index.js", line: 1, text: `// ${MARKER} dep` },
    ]);
  });
});

describe("symlinks", () => {
  beforeAll(async () => {
    await mkdir(path.join(dir, "real"), { recursive: true });
    await writeFile(path.join(dir, "real", "inside.txt"), "inside\n");
    await symlink("/etc/passwd", path.join(dir, "passwd"));
    await symlink(path.join(outside, "decoy.txt"), path.join(dir, "decoy"));
    await symlink(outside, path.join(dir, "outdir"));
    await symlink(siblingDir, path.join(dir, "sibling"));
    await symlink(path.join(outside, "not-yet"), path.join(dir, "dangling-out"));
    await symlink("nowhere", path.join(dir, "dangling"));
    await symlink("loop2", path.join(dir, "loop1"));
    await symlink("loop1", path.join(dir, "loop2"));
    await symlink("real", path.join(dir, "alias"));
    await symlink("real/inside.txt", path.join(dir, "alias.txt"));
  });

  const untouched = async () => {
    expect(await readFile(path.join(outside, "decoy.txt"), "utf8")).toBe(`${MARKER} outside\n`);
    expect(await readdir(outside)).toEqual(["decoy.txt"]);
    expect(await readFile(path.join(siblingDir, "secret.txt"), "utf8")).toBe(`${MARKER} sibling\n`);
    expect(await readdir(siblingDir)).toEqual(["secret.txt"]);
  };

  it("are followed while they stay inside the project", async () => {
    const c = owner.client;
    expect((await read(c, "alias.txt")).json().content).toBe("inside\n");
    expect((await read(c, "alias/inside.txt")).json().content).toBe("inside\n");
    expect((await tree(c, { path: "alias" })).json().entries.map((e: { path: string }) => e.path)).toEqual([
      "real/inside.txt",
    ]);
    // Writing through an in-project link writes its target; the link stays a link.
    expect((await write(c, { path: "alias.txt", content: "changed\n" })).statusCode).toBe(200);
    expect(await readFile(path.join(dir, "real", "inside.txt"), "utf8")).toBe("changed\n");
  });

  it("never lead a read, a listing or a search outside the project", async () => {
    const c = owner.client;
    for (const p of ["passwd", "decoy", "outdir/decoy.txt", "sibling/secret.txt"]) {
      expect(outcome(await read(c, p)), p).toEqual([403, "path_outside_project"]);
    }
    for (const p of ["outdir", "sibling"]) {
      expect(outcome(await tree(c, { path: p })), p).toEqual([403, "path_outside_project"]);
      expect(outcome(await search(c, MARKER, { path: p })), p).toEqual([403, "path_outside_project"]);
    }
    expect(outcome(await read(c, "dangling"))).toEqual([404, "file_not_found"]);
    expect(outcome(await read(c, "dangling-out"))).toEqual([404, "file_not_found"]);
    expect(outcome(await read(c, "loop1"))).toEqual([400, "path_invalid"]);
    const entries = (await tree(c)).json().entries as Array<{ path: string; type: string }>;
    const byPath = Object.fromEntries(entries.map((e) => [e.path, e.type]));
    for (const link of ["passwd", "decoy", "outdir", "sibling", "dangling", "loop1", "alias"]) {
      expect(byPath[link], link).toBe("symlink");
    }
    expect(entries.filter((e) => /^(outdir|sibling|alias)\//.test(e.path))).toEqual([]);
    const found = (await search(c, MARKER, { includeIgnored: true })).json().matches;
    expect(found.filter((m: { path: string }) => !m.path.startsWith("node_modules/"))).toEqual([]);
    expect((await search(c, "root:", { regex: true })).json().matches).toEqual([]);
    expect((await search(c, "secret", { mode: "name" })).json().matches).toEqual([]);
  });

  it("never lead a write, mkdir, move or delete outside the project", async () => {
    const c = owner.client;
    const attempts: Array<[string, Promise<LightMyRequestResponse>]> = [
      ["write decoy", write(c, { path: "decoy", content: "pwned" })],
      ["write outdir/new", write(c, { path: "outdir/new.txt", content: "pwned" })],
      ["write sibling/secret", write(c, { path: "sibling/secret.txt", content: "pwned" })],
      [
        "write sibling/new deep",
        write(c, { path: "sibling/a/b.txt", content: "pwned", createParents: true }),
      ],
      ["mkdir outdir/x", c.post(`${files()}/directories`, { path: "outdir/x", parents: true })],
      ["mkdir sibling/x", c.post(`${files()}/directories`, { path: "sibling/x" })],
      ["move into outdir", c.post(`${files()}/move`, { from: "lines.txt", to: "outdir/lines.txt" })],
      ["move out of sibling", c.post(`${files()}/move`, { from: "sibling/secret.txt", to: "stolen.txt" })],
      ["delete through outdir", del(c, "outdir/decoy.txt")],
      ["delete through sibling", del(c, "sibling/secret.txt")],
    ];
    for (const [what, res] of attempts) {
      expect(outcome(await res), what).toEqual([403, "path_outside_project"]);
    }
    expect(outcome(await write(c, { path: "dangling-out", content: "pwned" }))).toEqual([
      404,
      "file_not_found",
    ]);
    expect(outcome(await write(c, { path: "loop1", content: "pwned" }))).toEqual([400, "path_invalid"]);
    await untouched();
  });

  it("lead the agent's write (which reports whether the file is new) nowhere outside either", async () => {
    const access = await kiln.services.orgs.access(owner.user.id, org.id);
    const body = (p: string) => ({
      path: p,
      content: "agent",
      encoding: "utf8" as const,
      createParents: true,
      createOnly: false,
    });
    for (const link of ["decoy", "outdir/new.txt", "sibling/secret.txt", "sibling/a/b.txt"]) {
      await expect(
        kiln.services.files.writeReporting(access, project.id, body(link)),
        link,
      ).rejects.toMatchObject({
        code: "path_outside_project",
      });
    }
    await expect(
      kiln.services.files.writeReporting(access, project.id, body("../escape.txt")),
    ).rejects.toMatchObject({
      code: "path_invalid",
    });
    // A hard link to a file outside is replaced, never written into.
    await link(path.join(outside, "decoy.txt"), path.join(dir, "hard.txt"));
    const replaced = await kiln.services.files.writeReporting(access, project.id, body("hard.txt"));
    expect(replaced.created).toBe(false);
    expect(await readFile(path.join(dir, "hard.txt"), "utf8")).toBe("agent");
    const fresh = await kiln.services.files.writeReporting(access, project.id, body("agent/new.txt"));
    expect([fresh.created, fresh.info.size]).toEqual([true, 5]);
    expect(
      (await kiln.services.files.writeReporting(access, project.id, body("agent/new.txt"))).created,
    ).toBe(false);
    // What the write replaced comes with it when asked (the agent's diff), through the same checked path.
    const again = await kiln.services.files.writeReporting(
      access,
      project.id,
      { ...body("agent/new.txt"), content: "agent, again" },
      { previous: true },
    );
    expect([again.created, again.previous]).toEqual([false, "agent"]);
    const first = await kiln.services.files.writeReporting(access, project.id, body("agent/2.txt"), {
      previous: true,
    });
    expect([first.created, first.previous]).toEqual([true, undefined]);
    for (const link of ["decoy", "sibling/secret.txt"]) {
      await expect(
        kiln.services.files.writeReporting(access, project.id, body(link), { previous: true }),
        link,
      ).rejects.toMatchObject({ code: "path_outside_project" });
    }
    await untouched();
  });

  it("stop the descriptor walk even when a link appears after the path was resolved (TOCTOU)", async () => {
    // canonical() would have refused these; call the walk directly, as if a link was planted in between.
    const root = await ProjectRoot.open(dir);
    await expect(root.openDir(["outdir"])).rejects.toMatchObject({ code: "path_outside_project" });
    await expect(root.openDir(["sibling"])).rejects.toMatchObject({ code: "path_outside_project" });
    const top = await root.openDir([]);
    try {
      await expect(openFileForRead(top, "passwd", "passwd")).rejects.toMatchObject({
        code: "path_outside_project",
      });
    } finally {
      await top.close();
    }
  });

  it("refuses to read a FIFO instead of hanging on it", async () => {
    execFileSync("mkfifo", [path.join(dir, "fifo")]);
    expect(outcome(await read(owner.client, "fifo"))).toEqual([400, "path_invalid"]);
    const types = (await tree(owner.client))
      .json()
      .entries.filter((e: { path: string }) => e.path === "fifo");
    expect(types).toEqual([expect.objectContaining({ type: "other" })]);
  });

  it("are moved, replaced and deleted as links, never through to their targets", async () => {
    const c = owner.client;
    // Moving a file onto a link replaces the link; the link's target is not written.
    await write(c, { path: "payload.txt", content: "pwned" });
    const onto = await c.post(`${files()}/move`, { from: "payload.txt", to: "decoy", overwrite: true });
    expect(onto.statusCode).toBe(200);
    expect(await readFile(path.join(dir, "decoy"), "utf8")).toBe("pwned");
    // Moving a link moves the link.
    expect((await c.post(`${files()}/move`, { from: "outdir", to: "outdir2" })).statusCode).toBe(200);
    // Deleting a link (even recursively) removes the link only.
    expect((await del(c, "outdir2", true)).statusCode).toBe(200);
    expect((await del(c, "sibling", true)).statusCode).toBe(200);
    expect((await del(c, "passwd")).statusCode).toBe(200);
    expect(existsSync("/etc/passwd")).toBe(true);
    await untouched();
  });
});

describe("search", () => {
  it("stops a catastrophic regular expression and refuses an invalid one", async () => {
    const c = owner.client;
    await write(c, { path: "redos.txt", content: `${"a".repeat(40)}!\n` });
    const started = Date.now();
    expect(outcome(await search(c, "^(a+)+$", { regex: true }))).toEqual([400, "search_timeout"]);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(outcome(await search(c, "(unclosed", { regex: true }))).toEqual([400, "search_pattern_invalid"]);
    // The server is still responsive.
    expect((await read(c, "redos.txt")).statusCode).toBe(200);
  });

  it("caps its results", async () => {
    const c = owner.client;
    await write(c, { path: "many.txt", content: "hit\n".repeat(50) });
    const res = (await search(c, "hit", { maxResults: 5, path: "" })).json();
    expect([res.matches.length, res.truncated]).toEqual([5, true]);
  });
});

describe("access", () => {
  it("lets a viewer read and search but not write (403); a developer writes", async () => {
    const viewer = await join("viewer");
    expect((await read(viewer.client, "lines.txt")).statusCode).toBe(200);
    expect((await tree(viewer.client)).statusCode).toBe(200);
    expect((await search(viewer.client, "two")).statusCode).toBe(200);
    for (const res of [
      await write(viewer.client, { path: "v.txt", content: "x" }),
      await viewer.client.post(`${files()}/directories`, { path: "vdir" }),
      await viewer.client.post(`${files()}/move`, { from: "lines.txt", to: "v.txt" }),
      await del(viewer.client, "lines.txt"),
    ]) {
      expect(outcome(res)).toEqual([403, "forbidden"]);
    }
    expect(existsSync(path.join(dir, "lines.txt"))).toBe(true);
    const developer = await join("developer");
    expect((await write(developer.client, { path: "dev.txt", content: "x" })).statusCode).toBe(200);
  });

  it("answers 404 for another org, and for a project of another org inside one's own", async () => {
    const stranger = await kiln.signup();
    expect(outcome(await stranger.client.get(`${files(project.id, org.id)}/tree`))).toEqual([
      404,
      "org_not_found",
    ]);
    expect(
      outcome(await stranger.client.get(`${files(project.slug, org.slug)}/content?path=lines.txt`)),
    ).toEqual([404, "org_not_found"]);
    const theirs = stranger.personalOrg.slug;
    for (const ref of [project.id, project.slug]) {
      const res = await stranger.client.get(`${files(ref, theirs)}/content?path=lines.txt`);
      expect(outcome(res)).toEqual([404, "project_not_found"]);
      const put = await stranger.client.put(`${files(ref, theirs)}/content`, { path: "x.txt", content: "x" });
      expect(outcome(put)).toEqual([404, "project_not_found"]);
    }
  });
});
