import { type ChildProcess, spawn } from "node:child_process";
import { chmod, cp, readdir, rename, rm, symlink } from "node:fs/promises";
import http from "node:http";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { freePort } from "../sandbox/network.ts";
import { hostEnv } from "./host-env.ts";
import type { LoadedTemplate } from "./registry.ts";
import { devCommand } from "./registry.ts";

const FLUSH_PRELOAD = fileURLToPath(new URL("./flush-compile-cache.mjs", import.meta.url));
/** Where the template's files are put for the priming start, inside the install directory. */
const WARM_DIR = ".kiln-warm-up";

export interface PrimeResult {
  /** Cache files written. */
  entries: number;
  ms: number;
}

/**
 * Primes Node's compile cache for a template's dev command (`install.compileCache`, ADR 0014): starts
 * the dev server once next to the freshly installed dependencies, waits until it serves its ready page,
 * and stops it with the cache written. Node keys portable entries by the module's path relative to the
 * cache, and a project links both the modules and the cache at the same relative places, so its first dev
 * server start in the sandbox compiles nothing the priming run already did.
 *
 * Runs on the host like the install command itself (the template is Kiln's, not a user's), bound to
 * 127.0.0.1 on a free port. Leaves nothing behind in `node_modules` but the cache.
 */
export async function primeCompileCache(
  template: LoadedTemplate,
  installDir: string,
  options: { signal?: AbortSignal; timeoutMs?: number; guestUid?: number } = {},
): Promise<PrimeResult> {
  const { manifest } = template;
  const cacheRel = manifest.install?.compileCache;
  if (!cacheRel) return { entries: 0, ms: 0 };
  const started = performance.now();
  const modules = path.join(installDir, "node_modules");
  const before = new Set(await readdir(modules));
  const warm = path.join(installDir, WARM_DIR);
  try {
    await cp(template.dir, warm, {
      recursive: true,
      filter: (src) => !["node_modules", ".git"].includes(path.basename(src)),
    });
    // Through a symlink: Node resolves modules to their real paths, the ones inside `installDir`.
    await symlink(path.join("..", "node_modules"), path.join(warm, "node_modules"));
    const port = await freePort();
    const command = devCommand(manifest, port);
    const argv = command.argv[0] === "node" ? [process.execPath, ...command.argv.slice(1)] : command.argv;
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: warm,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...hostEnv(),
        ...command.env,
        HOST: "127.0.0.1",
        NODE_COMPILE_CACHE: path.join(installDir, cacheRel),
        // Only the flush hook: other flags (V8's especially) would key the cache to a different setup.
        NODE_OPTIONS: `--import ${pathToFileURL(FLUSH_PRELOAD).href}`,
      },
    });
    let output = "";
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4000);
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
    try {
      await untilReady(child, port, manifest.dev.ready, options.timeoutMs ?? 60_000, options.signal);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${output}`);
    } finally {
      await stop(child, exited);
    }
    const cacheDir = path.join(installDir, cacheRel);
    if (options.guestUid !== undefined) await renameForUid(cacheDir, options.guestUid);
    await shareable(cacheDir);
    return { entries: await countFiles(cacheDir), ms: Math.round(performance.now() - started) };
  } finally {
    await rm(warm, { recursive: true, force: true });
    // What the dev server wrote into node_modules (a bundled config, an optimiser cache) is not shared.
    const keep = cacheRel.split("/")[1];
    for (const name of await readdir(modules)) {
      if (!before.has(name) && name !== keep)
        await rm(path.join(modules, name), { recursive: true, force: true });
    }
  }
}

async function untilReady(
  child: ChildProcess,
  port: number,
  ready: { path: string; contains?: string | undefined },
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (signal?.aborted) throw new Error("stopped");
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`the dev server exited (${child.signalCode ?? `code ${child.exitCode}`})`);
    const answer = await get(port, ready.path);
    if (answer && answer.status === 200 && (!ready.contains || answer.body.includes(ready.contains))) return;
    if (Date.now() > deadline)
      throw new Error(`the dev server did not serve ${ready.path} in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function get(port: number, urlPath: string): Promise<{ status: number; body: string } | undefined> {
  return new Promise((resolve) => {
    const req = http.get({ host: "127.0.0.1", port, path: urlPath, timeout: 5_000, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => {
        if (body.length < 1_000_000) body += c;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      res.on("error", () => resolve(undefined));
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(undefined));
  });
}

/** SIGTERM (the preload writes the cache and exits), then the process group: nothing it started lingers. */
async function stop(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
  await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000).unref())]);
  killGroup(child);
}

function killGroup(child: ChildProcess): void {
  try {
    if (child.pid) process.kill(-child.pid, "SIGKILL");
  } catch {
    // already gone
  }
}

/**
 * Node keeps the cache in `<dir>/v<version>-<arch>-<tag>-<uid>`, the uid being the process's own; the
 * dev servers run as the runtime's guest uid, not as Kiln. Node only reads the directory of its uid.
 */
async function renameForUid(cacheDir: string, guestUid: number): Promise<void> {
  const own = process.getuid?.();
  if (own === undefined || own === guestUid) return;
  for (const name of await readdir(cacheDir)) {
    if (name.endsWith(`-${own}`))
      await rename(
        path.join(cacheDir, name),
        path.join(cacheDir, `${name.slice(0, -String(own).length)}${guestUid}`),
      );
  }
}

/** Node writes its cache private to its user (0600/0700); projects read it as another uid. */
async function shareable(dir: string): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  await chmod(dir, 0o755);
  await Promise.all(
    entries.map((e) => chmod(path.join(e.parentPath, e.name), e.isDirectory() ? 0o755 : 0o644)),
  );
}

async function countFiles(dir: string): Promise<number> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).length;
}
