import { spawnSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import {
  chmod,
  chown,
  lchown,
  mkdir,
  mkdtemp,
  readFile,
  realpath,
  rm,
  symlink,
  writeFile,
} from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { DependencyCache } from "./dependency-cache.ts";
import { checkInstalledEntry } from "./installed-cache.ts";
import type { LoadedTemplate } from "./registry.ts";

/** A stand-in for `npm ci` (no network) that counts its runs in `RUNS_FILE`. */
const FAKE_INSTALL = `
const fs = require("node:fs");
fs.appendFileSync(process.env.RUNS_FILE, "run\\n");
fs.mkdirSync("node_modules/pkg/lib", { recursive: true });
fs.writeFileSync("node_modules/pkg/lib/index.js", "module.exports = 42;");
fs.writeFileSync("node_modules/.package-lock.json", "{}");
`;
const FILE = "node_modules/pkg/lib/index.js";
const isRoot = process.getuid?.() === 0;
/** Not any uid this machine uses: a project's sandbox user, as far as permissions go. */
const TENANT = 201_913;

const roots: string[] = [];
afterEach(async () => {
  for (const root of roots.splice(0)) await rm(root, { recursive: true, force: true });
});

/** A template, an install-time cache built from it (as `kiln prepare-templates` does), and a data dir. */
async function setup() {
  const root = await mkdtemp(path.join(os.tmpdir(), "kiln-installed-"));
  roots.push(root);
  // Reachable by the tenant uid (mkdtemp makes 0700), so a refused write is refused by the file itself.
  await chmod(root, 0o755);
  const tpl = path.join(root, "tpl");
  await mkdir(tpl);
  await writeFile(path.join(tpl, "package.json"), '{"name":"t"}');
  await writeFile(path.join(tpl, "package-lock.json"), '{"lockfileVersion":3}');
  const runsFile = path.join(root, "runs");
  process.env.RUNS_FILE = runsFile;
  const template: LoadedTemplate = {
    dir: tpl,
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
  const installedRoot = path.join(root, "install", "templates");
  const entry = await new DependencyCache(installedRoot).ensure(template);
  const runs = async () => (await readFile(runsFile, "utf8")).split("\n").length - 1;
  const local = path.join(root, "data", "cache", "templates");
  const cache = new DependencyCache(local, undefined, { installed: installedRoot });
  return { root, template, installedRoot, entry, local, cache, runs };
}

describe("install-time template cache", () => {
  it("links a fresh data dir's projects from the install-time entry, installing nothing", async () => {
    const { root, template, entry, local, cache, runs } = await setup();
    expect(await runs()).toBe(1);
    expect(await cache.ensure(template)).toBe(await realpath(entry));
    const project = path.join(root, "project");
    await mkdir(project);
    await cache.linkInto(template, project);
    expect(await runs()).toBe(1);
    expect(statSync(path.join(project, FILE)).ino).toBe(statSync(path.join(entry, FILE)).ino);
    // Nothing was built in the data dir.
    expect(existsSync(path.join(local, path.basename(entry)))).toBe(false);
  });

  it("refuses an entry on a path someone else could change, and installs its own", async () => {
    const cases: Array<[string, (s: Awaited<ReturnType<typeof setup>>) => Promise<void>]> = [
      ["a world-writable, non-sticky directory above it", (s) => chmod(s.installedRoot, 0o777)],
      ["a group-writable entry", (s) => chmod(s.entry, 0o775)],
      ["a group-writable node_modules", (s) => chmod(path.join(s.entry, "node_modules"), 0o775)],
    ];
    if (isRoot) {
      cases.push(["an entry owned by another uid", (s) => chown(s.entry, TENANT, TENANT)]);
      cases.push([
        "a symlink to a tree owned by another uid",
        async (s) => {
          const planted = path.join(s.root, "planted");
          await rm(s.entry, { recursive: true, force: true });
          await mkdir(path.join(planted, "node_modules"), { recursive: true });
          await writeFile(path.join(planted, "kiln-cache.json"), "{}");
          await chown(planted, TENANT, TENANT);
          await symlink(planted, s.entry);
        },
      ]);
      cases.push([
        "a symlink another uid planted, to a tree only root can change",
        async (s) => {
          const planted = path.join(s.root, "planted-root");
          await rm(s.entry, { recursive: true, force: true });
          await mkdir(path.join(planted, "node_modules"), { recursive: true });
          await writeFile(path.join(planted, "kiln-cache.json"), "{}");
          await symlink(planted, s.entry);
          await lchown(s.entry, TENANT, TENANT);
        },
      ]);
    }
    for (const [what, spoil] of cases) {
      const s = await setup();
      await spoil(s);
      const dir = await s.cache.ensure(s.template);
      expect(path.dirname(dir), what).toBe(s.local);
      expect(await s.runs(), what).toBe(2);
      expect((await checkInstalledEntry(s.entry, s.local)) as object, what).toHaveProperty("problem");
    }
  });

  it("accepts a safe path under a sticky world-writable directory (/tmp)", async () => {
    const { entry, local } = await setup();
    await mkdir(local, { recursive: true });
    expect(statSync(os.tmpdir()).mode & 0o1000).toBe(0o1000);
    expect(await checkInstalledEntry(entry, local)).toEqual({ dir: await realpath(entry) });
  });

  it.skipIf(!existsSync("/dev/shm") || statSync("/dev/shm").dev === statSync(os.tmpdir()).dev)(
    "refuses an entry on another filesystem than the data dir (hard links cannot reach it)",
    async () => {
      const { entry } = await setup();
      const elsewhere = await mkdtemp("/dev/shm/kiln-installed-");
      roots.push(elsewhere);
      expect(await checkInstalledEntry(entry, elsewhere)).toEqual({
        problem: `on another filesystem than ${elsewhere}`,
      });
    },
  );

  it.skipIf(!isRoot)(
    "a tenant cannot write the shared files through its hard links, nor add to the install-time cache",
    async () => {
      const { root, template, entry, cache } = await setup();
      const project = path.join(root, "project");
      await mkdir(project);
      await chown(project, TENANT, TENANT);
      await cache.linkInto(template, project, { uid: TENANT, gid: TENANT });
      const linked = path.join(project, FILE);
      expect(statSync(linked).ino).toBe(statSync(path.join(entry, FILE)).ino);
      const asTenant = (script: string) =>
        spawnSync("/bin/sh", ["-c", script], {
          uid: TENANT,
          gid: TENANT,
          env: { F: linked, E: path.join(entry, "node_modules") },
          encoding: "utf8",
        });
      // The tenant reaches the file (so what follows is refused by the file's own permissions).
      expect(asTenant('cat "$F"').stdout).toBe("module.exports = 42;");
      for (const attack of [
        'echo "pwned" > "$F"',
        'echo "pwned" >> "$F"',
        'chmod u+w "$F"',
        'echo x > "$E/planted.js"',
        'rm -f "$E/pkg/lib/index.js"',
      ]) {
        const r = asTenant(attack);
        expect(r.status, attack).not.toBe(0);
      }
      // What it may do: replace its own link (its directory is its own), which leaves the shared file alone.
      expect(asTenant('rm -f "$F" && echo mine > "$F"').status).toBe(0);
      expect(await readFile(path.join(entry, FILE), "utf8")).toBe("module.exports = 42;");
      expect(existsSync(path.join(entry, "node_modules/planted.js"))).toBe(false);
    },
  );
});
