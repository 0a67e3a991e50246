import { spawnSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { mkdir, mkdtemp, readdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { DependencyCache } from "./dependency-cache.ts";
import { compileCacheEnv, devCommand, type LoadedTemplate } from "./registry.ts";

const CACHE = "node_modules/.cache/kiln-node-compile";

/** An install that writes one package, and a dev server that loads it and serves `ready`. */
const FAKE_INSTALL = `
const fs = require("node:fs");
fs.mkdirSync("node_modules/pkg/lib", { recursive: true });
fs.writeFileSync("node_modules/pkg/package.json", '{"name":"pkg","main":"lib/index.js"}');
fs.writeFileSync("node_modules/pkg/lib/index.js", "module.exports = function answer() { return 42; };");
`;
const SERVER = `
const http = require("node:http");
const fs = require("node:fs");
const answer = require("pkg");
// What dev servers do: leave their own files in node_modules (bundled configs, optimiser caches).
fs.mkdirSync("node_modules/.vite-temp", { recursive: true });
if (process.env.CRASH === "1") process.exit(5);
http.createServer((req, res) => res.end("ready " + answer())).listen(Number(process.env.PORT), process.env.HOST);
`;

async function fakeTemplate(): Promise<{ template: LoadedTemplate; root: string }> {
  const root = await mkdtemp(path.join(os.tmpdir(), "kiln-compile-cache-"));
  const dir = path.join(root, "tpl");
  await mkdir(dir);
  await writeFile(path.join(dir, "package.json"), '{"name":"t"}');
  await writeFile(path.join(dir, "package-lock.json"), '{"lockfileVersion":3}');
  await writeFile(path.join(dir, "server.cjs"), SERVER);
  const template: LoadedTemplate = {
    dir,
    manifest: {
      name: "warm",
      title: "Warm",
      description: "warm",
      dev: {
        argv: ["node", "server.cjs"],
        env: {},
        port: { env: "PORT", default: 3000 },
        ready: { path: "/", contains: "ready 42" },
      },
      install: {
        argv: [process.execPath, "-e", FAKE_INSTALL],
        lockfile: "package-lock.json",
        compileCache: CACHE,
      },
      readFirst: ["KILN.md"],
      gitignore: [],
    },
  };
  return { template, root };
}

function logSink() {
  const warnings: string[] = [];
  return { warnings, log: { info() {}, warn: (_: object, msg: string) => void warnings.push(msg) } };
}

describe("primed compile cache", () => {
  it("is built with the dependencies and makes a project's modules load from it, wherever it lives", async () => {
    const { template, root } = await fakeTemplate();
    const { log, warnings } = logSink();
    const cache = new DependencyCache(path.join(root, "cache"), log);
    const dir = await cache.ensure(template);
    expect(warnings).toEqual([]);
    // Only the cache was added to node_modules; the dev server's own leftovers and the warm-up copy are gone.
    expect((await readdir(path.join(dir, "node_modules"))).sort()).toEqual([".cache", "pkg"]);
    expect(await readdir(dir)).not.toContain(".kiln-warm-up");
    const versions = await readdir(path.join(dir, CACHE));
    expect(versions).toHaveLength(1);
    expect(versions[0]).toMatch(
      new RegExp(`^v\\d+\\.\\d+\\.\\d+-${process.arch}-[0-9a-f]+-${process.getuid?.()}$`),
    );
    const entries = await readdir(path.join(dir, CACHE, versions[0]!));
    expect(entries.length).toBeGreaterThan(0);
    // Readable by a project's sandbox user, changeable by nobody but root.
    for (const e of entries)
      expect(statSync(path.join(dir, CACHE, versions[0]!, e)).mode & 0o777).toBe(0o444);

    // A project elsewhere, with the dependencies linked in: Node accepts the primed code for `pkg`.
    const project = path.join(root, "elsewhere", "project");
    await mkdir(project, { recursive: true });
    await cache.linkInto(template, project);
    const run = spawnSync(process.execPath, ["-e", "require('pkg')"], {
      cwd: project,
      env: {
        PATH: process.env.PATH,
        ...compileCacheEnv(template.manifest),
        NODE_DEBUG_NATIVE: "COMPILE_CACHE",
      },
      encoding: "utf8",
    });
    expect(run.status).toBe(0);
    expect(run.stderr).toMatch(/pkg\/lib\/index\.js was accepted/);
  });

  it("is named for the runtime's guest uid, and a new Node version or uid is a new cache entry", async () => {
    const { template, root } = await fakeTemplate();
    const cache = new DependencyCache(path.join(root, "cache"), undefined, { guestUid: 4242 });
    const dir = await cache.ensure(template);
    const versions = await readdir(path.join(dir, CACHE));
    expect(versions).toHaveLength(1);
    expect(versions[0]).toMatch(/-4242$/);
    const other = new DependencyCache(path.join(root, "cache"), undefined, { guestUid: 4243 });
    expect(await other.keyFor(template)).not.toBe(await cache.keyFor(template));
  });

  it("is skipped with a warning when the dev server will not start; the dependencies are still cached", async () => {
    const { template, root } = await fakeTemplate();
    const { log, warnings } = logSink();
    process.env.CRASH = "1";
    try {
      const dir = await new DependencyCache(path.join(root, "cache"), log).ensure(template);
      expect(existsSync(path.join(dir, "node_modules/pkg/lib/index.js"))).toBe(true);
      expect((await readdir(path.join(dir, "node_modules"))).sort()).not.toContain(".vite-temp");
      expect(warnings).toEqual([expect.stringMatching(/could not prime/)]);
    } finally {
      delete process.env.CRASH;
    }
  });

  it("gives the dev command the cache, portable, relative to the project", () => {
    const { env } = devCommand(
      {
        name: "x",
        title: "x",
        description: "x",
        dev: {
          argv: ["node", "s.js"],
          env: { HOST: "0.0.0.0" },
          port: { env: "PORT", default: 1 },
          ready: { path: "/" },
        },
        install: { argv: ["npm", "ci"], lockfile: "package-lock.json", compileCache: CACHE },
        readFirst: ["KILN.md"],
        gitignore: [],
      },
      3000,
    );
    expect(env).toEqual({
      HOST: "0.0.0.0",
      PORT: "3000",
      NODE_COMPILE_CACHE: CACHE,
      NODE_COMPILE_CACHE_PORTABLE: "1",
    });
  });
});
