import { existsSync, lstatSync, statSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, utimes, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { DependencyCache } from "./dependency-cache.ts";
import { type LoadedTemplate, TemplateRegistry } from "./registry.ts";
import { TemplateService } from "./service.ts";

/**
 * A stand-in for `npm ci` that needs no network: it records each run in a shared file, waits a little
 * (so concurrent callers overlap), and writes a small node_modules.
 */
const FAKE_INSTALL = `
const fs = require("node:fs");
fs.appendFileSync(process.env.RUNS_FILE, "run\\n");
if (process.env.FAIL_INSTALL === "1") process.exit(3);
setTimeout(() => {
  fs.mkdirSync("node_modules/pkg/lib", { recursive: true });
  fs.writeFileSync("node_modules/pkg/package.json", '{"name":"pkg","main":"lib/index.js"}');
  fs.writeFileSync("node_modules/pkg/lib/index.js", "module.exports = 42;");
  fs.writeFileSync("node_modules/.package-lock.json", "{}");
  fs.mkdirSync("node_modules/.bin");
  fs.symlinkSync("../pkg/lib/index.js", "node_modules/.bin/pkg");
}, 300);
`;

async function fakeTemplate(): Promise<{
  template: LoadedTemplate;
  runs: () => Promise<number>;
  root: string;
}> {
  const root = await mkdtemp(path.join(os.tmpdir(), "kiln-depcache-"));
  const dir = path.join(root, "tpl");
  await mkdir(dir);
  await writeFile(path.join(dir, "package.json"), '{"name":"t"}');
  await writeFile(path.join(dir, "package-lock.json"), '{"lockfileVersion":3}');
  const runsFile = path.join(root, "runs");
  process.env.RUNS_FILE = runsFile;
  const template: LoadedTemplate = {
    dir,
    manifest: {
      name: "fake",
      title: "Fake",
      description: "fake",
      dev: { argv: ["x"], env: {}, port: { env: "PORT", default: 3000 }, ready: { path: "/" } },
      install: { argv: [process.execPath, "-e", FAKE_INSTALL], lockfile: "package-lock.json" },
      readFirst: ["KILN.md"],
      gitignore: [],
    },
  };
  const runs = async () =>
    existsSync(runsFile) ? (await readFile(runsFile, "utf8")).split("\n").length - 1 : 0;
  return { template, runs, root };
}

describe("dependency cache", () => {
  it("installs once for concurrent callers in one process and across instances", async () => {
    const { template, runs, root } = await fakeTemplate();
    const a = new DependencyCache(path.join(root, "cache"));
    const b = new DependencyCache(path.join(root, "cache")); // another process, as far as locking goes
    const dirs = await Promise.all([a.ensure(template), a.ensure(template), b.ensure(template)]);
    expect(new Set(dirs).size).toBe(1);
    expect(await runs()).toBe(1);
    // Nothing left behind but the entry itself.
    expect(await readdir(path.join(root, "cache"))).toEqual([path.basename(dirs[0]!)]);
    expect(path.basename(dirs[0]!)).toMatch(/^fake-[0-9a-f]{16}$/);
    // A changed lockfile is a new entry.
    await writeFile(path.join(template.dir, "package-lock.json"), '{"lockfileVersion":3,"x":1}');
    expect(await a.ensure(template)).not.toBe(dirs[0]);
    expect(await runs()).toBe(2);
  });

  it("recovers from a builder that died mid-install and from a failed install", async () => {
    const { template, runs, root } = await fakeTemplate();
    const cacheDir = path.join(root, "cache");
    const cache = new DependencyCache(cacheDir);
    const key = await cache.keyFor(template);
    // What a kill -9 leaves: a lock and a half-written temp dir, both owned by a pid that is gone.
    const dead = 2 ** 22 + 12345;
    await mkdir(path.join(cacheDir, `${key}.lock`), { recursive: true });
    await writeFile(path.join(cacheDir, `${key}.lock`, "pid"), String(dead));
    await mkdir(path.join(cacheDir, `.tmp-${key}-${dead}-0badc0de`, "node_modules"), { recursive: true });

    process.env.FAIL_INSTALL = "1";
    await expect(cache.ensure(template)).rejects.toThrow(/failed \(exit 3\)/);
    delete process.env.FAIL_INSTALL;
    expect(existsSync(path.join(cacheDir, key))).toBe(false);

    await cache.ensure(template);
    expect(await runs()).toBe(2);
    expect((await readdir(cacheDir)).sort()).toEqual([key]);
  });

  it("gives a project hard links to read-only cache files, and its own copy of npm's hidden lockfile", async () => {
    const { template, root } = await fakeTemplate();
    const cache = new DependencyCache(path.join(root, "cache"));
    const project = path.join(root, "project");
    await mkdir(project);
    await cache.linkInto(template, project);
    const cached = path.join(await cache.ensure(template), "node_modules");
    const file = "pkg/lib/index.js";
    expect(statSync(path.join(project, "node_modules", file)).ino).toBe(
      statSync(path.join(cached, file)).ino,
    );
    expect(statSync(path.join(cached, file)).mode & 0o222).toBe(0);
    const hidden = ".package-lock.json";
    expect(statSync(path.join(project, "node_modules", hidden)).ino).not.toBe(
      statSync(path.join(cached, hidden)).ino,
    );
    expect(statSync(path.join(project, "node_modules", hidden)).mode & 0o200).toBe(0o200);
    expect(await readFile(path.join(project, "node_modules/.bin/pkg"), "utf8")).toBe("module.exports = 42;");
  });

  it.skipIf(process.getuid?.() !== 0)(
    "makes a project owned by its sandbox user as it is made, except the inodes shared with the cache",
    async () => {
      const { template, root } = await fakeTemplate();
      await writeFile(path.join(template.dir, "index.html"), "<h1>hi</h1>");
      const service = new TemplateService(new TemplateRegistry([template]), path.join(root, "cache"));
      const project = path.join(root, "owned");
      await mkdir(project);
      const owner = { uid: 201_777, gid: 201_777 };
      // The dev server (sandboxed code) may start at onFiles: by then the repository is made and everything
      // is owned — no host git, no chown ever runs on the tree after a sandbox may have had it.
      let atOnFiles: { head: boolean; rootUid: number; gitUid: number } | undefined;
      await service.materialize(template, project, owner, () => {
        atOnFiles = {
          head: existsSync(path.join(project, ".git/refs/heads/main")),
          rootUid: lstatSync(project).uid,
          gitUid: lstatSync(path.join(project, ".git")).uid,
        };
      });
      expect(atOnFiles).toEqual({ head: true, rootUid: owner.uid, gitUid: owner.uid });
      const uidOf = (rel: string) => lstatSync(path.join(project, rel)).uid;
      for (const rel of [
        "",
        "index.html",
        ".gitignore",
        ".git",
        ".git/HEAD",
        "node_modules",
        "node_modules/pkg/lib",
        "node_modules/.bin",
        "node_modules/.package-lock.json",
      ]) {
        expect(uidOf(rel), rel).toBe(owner.uid);
      }
      // A symlink has no descriptor to fchown; it stays root's, and the project can still replace it.
      expect(lstatSync(path.join(project, "node_modules/.bin/pkg")).isSymbolicLink()).toBe(true);
      expect(uidOf("node_modules/.bin/pkg")).toBe(0);
      expect(uidOf("node_modules/pkg/lib/index.js")).toBe(0);
      expect(uidOf("node_modules/pkg/package.json")).toBe(0);
    },
  );

  it("removes entries no template uses once they have not been linked from for a day", async () => {
    const { template, root } = await fakeTemplate();
    const cacheDir = path.join(root, "cache");
    const cache = new DependencyCache(cacheDir);
    const old = await cache.ensure(template);
    const project = path.join(root, "project");
    await mkdir(project);
    await cache.linkInto(template, project);
    // A new lockfile: a new entry; the old one is now unused by any template.
    await writeFile(path.join(template.dir, "package-lock.json"), '{"lockfileVersion":3,"y":2}');
    const current = await cache.ensure(template);
    const keep = new Set([path.basename(current)]);
    // Linked from a minute ago (a replica still on the old lockfile, say): kept.
    expect(await cache.prune(keep)).toEqual([]);
    expect(existsSync(old)).toBe(true);
    // Not linked from for two days: removed; what is not an entry is left alone.
    const twoDaysAgo = new Date(Date.now() - 2 * 24 * 60 * 60_000);
    await utimes(path.join(old, "kiln-cache.json"), twoDaysAgo, twoDaysAgo);
    await utimes(path.join(current, "kiln-cache.json"), twoDaysAgo, twoDaysAgo);
    await mkdir(path.join(cacheDir, "not-an-entry"));
    expect(await cache.prune(keep)).toEqual([path.basename(old)]);
    expect((await readdir(cacheDir)).sort()).toEqual([path.basename(current), "not-an-entry"].sort());
    // The project made from the removed entry keeps its dependencies (hard links).
    expect(await readFile(path.join(project, "node_modules/pkg/lib/index.js"), "utf8")).toBe(
      "module.exports = 42;",
    );
    // Linking marks an entry as used.
    await cache.linkInto(template, await mkdtemp(path.join(root, "p2-")));
    expect(Date.now() - statSync(path.join(current, "kiln-cache.json")).mtimeMs).toBeLessThan(60_000);
  });

  it("reports a failed install as 503 unavailable when a project needs it", async () => {
    const { template, root } = await fakeTemplate();
    const service = new TemplateService(new TemplateRegistry([template]), path.join(root, "cache"));
    process.env.FAIL_INSTALL = "1";
    try {
      await expect(service.prepare(service.get("fake"))).rejects.toMatchObject({
        code: "unavailable",
        status: 503,
      });
    } finally {
      delete process.env.FAIL_INSTALL;
    }
    await expect(service.prepare(service.get("fake"))).resolves.toBeUndefined();
  });
});
