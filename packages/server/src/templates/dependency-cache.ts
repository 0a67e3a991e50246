import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import {
  chmod,
  copyFile,
  mkdir,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  utimes,
  writeFile,
} from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { primeCompileCache } from "./compile-cache.ts";
import { hostEnv } from "./host-env.ts";
import { checkInstalledEntry } from "./installed-cache.ts";
import { linkTree } from "./link-tree.ts";
import type { LoadedTemplate } from "./registry.ts";

/** Written when an entry is built; its mtime is when a project last linked from it. */
const MARKER = "kiln-cache.json";
/** `<template>-<hash16>`, the names `keyFor` makes. */
const ENTRY_NAME = /^[a-z][a-z0-9-]{0,39}-[0-9a-f]{16}$/;

export interface CacheLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/**
 * Template dependencies, installed once per lockfile and shared by every project made from the template
 * (ADR 0007): `<root>/<template>-<hash>/node_modules`, where the hash covers package.json, the lockfile and
 * the platform. A project gets a hard-linked copy of that tree.
 *
 * Building is safe under concurrency and crashes: one build per key in this process (a shared promise),
 * one across processes (a lock directory holding the builder's pid), and the install runs in a temporary
 * directory that is renamed into place only when complete — a crash leaves a temp dir and a stale lock,
 * both cleared by the next build.
 */
export class DependencyCache {
  readonly root: string;
  readonly #log: CacheLog | undefined;
  readonly #building = new Map<string, Promise<string>>();
  readonly #abort = new AbortController();
  readonly #guestUid: number | undefined;
  readonly #installed: string | undefined;
  readonly #refused = new Set<string>();
  /** Installs under way in this process: where, and how many packages the lockfile names. */
  readonly #installing = new Map<string, { tmp: string; packages: number; done?: boolean }>();

  /**
   * `guestUid`: the uid dev servers run as (the runtime driver's), for the primed compile cache.
   * `installed`: entries built at install time (`kiln prepare-templates`, ADR 0007), linked from when
   * present and safe, never built, touched or pruned here.
   */
  constructor(root: string, log?: CacheLog, options: { guestUid?: number; installed?: string } = {}) {
    this.root = root;
    this.#log = log;
    this.#guestUid = options.guestUid;
    this.#installed = options.installed;
  }

  /** `<template>-<hash>`: a changed lockfile (or platform) is a new cache entry, never a stale one. */
  async keyFor(template: LoadedTemplate): Promise<string> {
    const install = template.manifest.install;
    if (!install) throw new Error(`template ${template.manifest.name} has no dependencies`);
    const hash = createHash("sha256");
    hash.update(`${process.platform}-${process.arch}\0`);
    hash.update(await readFile(path.join(template.dir, "package.json")));
    hash.update("\0");
    hash.update(await readFile(path.join(template.dir, install.lockfile)));
    // A primed compile cache is only valid for the Node that wrote it.
    if (install.compileCache)
      hash.update(`\0compile-cache ${install.compileCache} ${process.version} ${this.#guestUid ?? ""}`);
    return `${template.manifest.name}-${hash.digest("hex").slice(0, 16)}`;
  }

  /** The cache entry's directory (holding `node_modules`), built first when missing. */
  async ensure(template: LoadedTemplate): Promise<string> {
    const key = await this.keyFor(template);
    const dir = path.join(this.root, key);
    if (existsSync(dir)) return dir;
    const installed = await this.#installedEntry(key);
    if (installed) return installed;
    let pending = this.#building.get(key);
    if (!pending) {
      pending = this.#buildLocked(template, key, dir).finally(() => {
        this.#installing.delete(key);
        this.#building.delete(key);
      });
      this.#building.set(key, pending);
    }
    return pending;
  }

  /**
   * How far this process's install for the template is, 0–99 (the packages npm has placed of those the
   * lockfile names; 99 while the compile cache is primed), or undefined when none is under way. For the
   * studio to show while a first project waits for it.
   */
  async progress(template: LoadedTemplate): Promise<number | undefined> {
    if (!template.manifest.install || this.#building.size === 0) return undefined;
    const under = this.#installing.get(await this.keyFor(template));
    if (!under) return this.#building.has(await this.keyFor(template)) ? 0 : undefined;
    // Installed, and being put in place (primed, made read-only, renamed away from `tmp`): nearly done.
    if (under.done) return 99;
    const placed = await countPackages(path.join(under.tmp, "node_modules"));
    return Math.min(99, Math.floor((placed / Math.max(1, under.packages)) * 100));
  }

  /** Gives `projectDir` its own `node_modules`: hard links into the cache, ~1k files in tens of ms. */
  async linkInto(
    template: LoadedTemplate,
    projectDir: string,
    owner?: { uid: number; gid: number },
  ): Promise<void> {
    const dir = await this.ensure(template);
    // "Last used", for `prune`: an entry a running Kiln still links from is never removed under it.
    const now = new Date();
    await utimes(path.join(dir, MARKER), now, now).catch(() => {});
    await linkTree(path.join(dir, "node_modules"), path.join(projectDir, "node_modules"), {
      // npm rewrites its hidden lockfile in place; a hard link would change the cache and every project.
      copy: (rel) => rel === ".package-lock.json",
      owner,
    });
  }

  /**
   * Removes entries no template uses any more (a changed lockfile, another Node version) once they have
   * not been linked from for `unusedForMs`: each is a whole `node_modules` (~90 MB for react-vite). Projects
   * keep their hard links; a replica still on an old key touches it on every use, so it is kept. An entry
   * is first renamed to a temp name, so a concurrent `ensure` never sees half of one.
   */
  async prune(keep: ReadonlySet<string>, unusedForMs = 24 * 60 * 60_000): Promise<string[]> {
    const removed: string[] = [];
    const names = await readdir(this.root).catch(() => [] as string[]);
    for (const name of names) {
      if (keep.has(name) || !ENTRY_NAME.test(name) || existsSync(path.join(this.root, `${name}.lock`)))
        continue;
      const lastUsed = await stat(path.join(this.root, name, MARKER)).catch(() => undefined);
      if (lastUsed && Date.now() - lastUsed.mtimeMs < unusedForMs) continue;
      const trash = path.join(this.root, `.tmp-${name}-${process.pid}-${randomBytes(4).toString("hex")}`);
      try {
        await rename(path.join(this.root, name), trash);
      } catch {
        continue; // removed or rebuilt by another process meanwhile
      }
      await rm(trash, { recursive: true, force: true });
      removed.push(name);
    }
    return removed;
  }

  /** Stops installs in progress (shutdown); their temp dirs are cleared by the next build. */
  close(): void {
    this.#abort.abort();
  }

  /**
   * The install-time entry for `key` when Kiln may link from it: complete, on this cache's filesystem (a
   * hard link cannot cross one; copying every file would cost more than it saves), and on a path nobody but
   * root or Kiln's own user can change — else a local user could plant the dependencies every project runs.
   */
  async #installedEntry(key: string): Promise<string | undefined> {
    if (!this.#installed) return undefined;
    const dir = path.join(this.#installed, key);
    if (!existsSync(path.join(dir, MARKER))) return undefined;
    await mkdir(this.root, { recursive: true });
    const checked = await checkInstalledEntry(dir, this.root);
    if ("dir" in checked) return checked.dir;
    if (!this.#refused.has(key)) {
      this.#refused.add(key);
      this.#log?.warn(
        { dir, problem: checked.problem },
        "not using the installed template cache; installing here instead",
      );
    }
    return undefined;
  }

  async #buildLocked(template: LoadedTemplate, key: string, dir: string): Promise<string> {
    await mkdir(this.root, { recursive: true });
    const lock = path.join(this.root, `${key}.lock`);
    for (;;) {
      if (existsSync(dir)) return dir;
      try {
        await mkdir(lock);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
        const owner = Number(await readFile(path.join(lock, "pid"), "utf8").catch(() => ""));
        // A lock whose pid file is not written yet belongs to a builder that has just started.
        if (owner && !isAlive(owner)) await rm(lock, { recursive: true, force: true });
        else await sleep(250, undefined, { signal: this.#abort.signal });
        continue;
      }
      try {
        await writeFile(path.join(lock, "pid"), String(process.pid));
        if (existsSync(dir)) return dir;
        await this.#clearStaleTemps();
        await this.#build(template, key, dir);
        return dir;
      } finally {
        await rm(lock, { recursive: true, force: true });
      }
    }
  }

  async #build(template: LoadedTemplate, key: string, dir: string): Promise<void> {
    const install = template.manifest.install!;
    const tmp = path.join(this.root, `.tmp-${key}-${process.pid}-${randomBytes(4).toString("hex")}`);
    const started = performance.now();
    this.#log?.info({ template: template.manifest.name, key }, "installing template dependencies");
    try {
      await mkdir(tmp);
      await copyFile(path.join(template.dir, "package.json"), path.join(tmp, "package.json"));
      await copyFile(path.join(template.dir, install.lockfile), path.join(tmp, install.lockfile));
      const installing = {
        tmp,
        packages: await lockfilePackages(path.join(tmp, install.lockfile)),
        done: false,
      };
      this.#installing.set(key, installing);
      await run(install.argv, tmp, this.#abort.signal);
      installing.done = true;
      if (install.compileCache) await this.#prime(template, tmp);
      // Read-only files: a hard-linked project cannot rewrite the shared copy by accident (root still can).
      await makeFilesReadOnly(path.join(tmp, "node_modules"));
      const installMs = Math.round(performance.now() - started);
      await writeFile(
        path.join(tmp, MARKER),
        `${JSON.stringify({ template: template.manifest.name, key, installMs, createdAt: new Date() })}\n`,
      );
      try {
        await rename(tmp, dir);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        // Another process finished the same key first; theirs is as good as ours.
        if (code !== "ENOTEMPTY" && code !== "EEXIST") throw err;
      }
      this.#log?.info({ template: template.manifest.name, key, installMs }, "template dependencies ready");
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }

  /** A dev server start that fails here is only a slower first start for projects: logged, not fatal. */
  async #prime(template: LoadedTemplate, dir: string): Promise<void> {
    try {
      const primed = await primeCompileCache(template, dir, {
        signal: this.#abort.signal,
        ...(this.#guestUid === undefined ? {} : { guestUid: this.#guestUid }),
      });
      this.#log?.info({ template: template.manifest.name, ...primed }, "template compile cache primed");
    } catch (err) {
      if (this.#abort.signal.aborted) throw err;
      this.#log?.warn(
        { template: template.manifest.name, err: (err as Error).message },
        "could not prime the template's compile cache; its projects start a little slower",
      );
    }
  }

  /** Temp dirs of builders that died (crash, kill -9) mid-install. */
  async #clearStaleTemps(): Promise<void> {
    for (const name of await readdir(this.root)) {
      const pid = /^\.tmp-.+-(\d+)-[0-9a-f]{8}$/.exec(name)?.[1];
      if (pid && !isAlive(Number(pid)))
        await rm(path.join(this.root, name), { recursive: true, force: true });
    }
  }
}

/** Top-level packages an npm v2/v3 lockfile installs (`packages["node_modules/x"]`, not nested ones). */
async function lockfilePackages(lockfile: string): Promise<number> {
  try {
    const packages = (JSON.parse(await readFile(lockfile, "utf8")) as { packages?: object }).packages ?? {};
    return Object.keys(packages).filter((k) => /^node_modules\/(@[^/]+\/)?[^/@][^/]*$/.test(k)).length;
  } catch {
    return 0; // not npm's: progress stays at 0 until the install is done
  }
}

/** Packages placed in a `node_modules` so far (scoped ones counted one by one); 0 before it exists. */
async function countPackages(dir: string): Promise<number> {
  const names = await readdir(dir).catch(() => [] as string[]);
  let count = 0;
  for (const name of names) {
    if (name.startsWith(".")) continue;
    if (name.startsWith("@")) count += (await readdir(path.join(dir, name)).catch(() => [])).length;
    else count++;
  }
  return count;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function makeFilesReadOnly(dir: string): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  await Promise.all(
    entries
      .filter((e) => e.isFile())
      .map(async (e) => {
        const file = path.join(e.parentPath, e.name);
        await chmod(file, (await stat(file)).mode & 0o555);
      }),
  );
}

/** Runs the install command in the host's environment (`hostEnv`). */
function run(argv: string[], cwd: string, signal: AbortSignal): Promise<void> {
  const env = hostEnv();
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd, env, signal, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-8000);
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    child.on("error", reject);
    child.on("close", (code, sig) => {
      if (code === 0) resolve();
      else reject(new Error(`${argv.join(" ")} failed (${sig ?? `exit ${code}`}):\n${output}`));
    });
  });
}
