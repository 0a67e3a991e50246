import { execFile, execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { constants, existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { appendFile, mkdir, open, readFile, rename, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { alive } from "../db/data-dir-lock.ts";
import { freePort } from "./free-port.ts";

/**
 * A PostgreSQL cluster of a test's own (initdb in a temp dir, its own port and socket), for tests and benches
 * that stop, restart or crash the database — which they must never do to the shared server on 5432.
 */
export interface PgCluster {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (trust auth). */
  readonly url: string;
  readonly port: number;
  /** The temp dir holding `data/`, `sock/` (the unix socket) and `postgres.log`. */
  readonly dir: string;
  /** `pg_ctl restart -w`: stops with `mode` (default fast), starts again, resolves once it accepts connections. */
  restart(options?: { mode?: StopMode }): Promise<void>;
  /** `pg_ctl stop -w -m <mode>` (default fast). */
  stop(mode?: StopMode): Promise<void>;
  /** `pg_ctl start -w` (after `stop`). */
  start(): Promise<void>;
  /** Whether it answers `SELECT 1` right now. */
  isUp(): Promise<boolean>;
  /** The server's log so far (for failure messages). */
  log(): Promise<string>;
  /** Stops it at once and removes its directory; idempotent. */
  destroy(): Promise<void>;
}

export type StopMode = "smart" | "fast" | "immediate";

/** Temp dirs are named `kiln-pg-<owner pid>-…` so a later run can clean up after a process that was killed. */
const PREFIX = "kiln-pg-";
const live = new Set<string>();
let template: Promise<string> | undefined;

/** Starts a fresh cluster (a copy of an initdb'd template, ~0.3 s) and waits until it accepts connections. */
export async function startPgCluster(): Promise<PgCluster> {
  sweepOrphans();
  template ??= makeTemplate();
  const templateData = await template;
  const dir = await makeDir("c");
  const data = path.join(dir, "data");
  const sock = path.join(dir, "sock");
  const logFile = path.join(dir, "postgres.log");
  // cp -a keeps the postgres ownership and the 0700 mode PostgreSQL insists on.
  await run("cp", ["-a", templateData, data], false);
  await mkdir(sock);
  await ownedByPostgres(sock);
  await writeFile(logFile, "");
  await ownedByPostgres(logFile);

  let port = 0;
  // freePort() can race with another process taking the port before postgres binds it: try a few.
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    await writeFile(
      path.join(data, "postgresql.auto.conf"),
      [`port = ${port}`, "listen_addresses = '127.0.0.1'", `unix_socket_directories = '${sock}'`, ""].join(
        "\n",
      ),
    );
    try {
      await pgCtl(["start", "-w", "-t", "60", "-D", data, "-l", logFile]);
      break;
    } catch (err) {
      if (attempt >= 3) {
        await rm(dir, { recursive: true, force: true });
        throw new Error(`${err}\n${await readFile(logFile, "utf8").catch(() => "")}`);
      }
    }
  }
  live.add(dir);

  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let destroyed = false;
  return {
    url,
    port,
    dir,
    restart: async ({ mode = "fast" } = {}) => {
      await pgCtl(["restart", "-w", "-t", "60", "-m", mode, "-D", data, "-l", logFile]);
    },
    stop: async (mode = "fast") => {
      await pgCtl(["stop", "-w", "-t", "60", "-m", mode, "-D", data]);
    },
    start: async () => {
      await pgCtl(["start", "-w", "-t", "60", "-D", data, "-l", logFile]);
    },
    isUp: () => isUp(url),
    log: () => readFile(logFile, "utf8"),
    destroy: async () => {
      if (destroyed) return;
      destroyed = true;
      live.delete(dir);
      killPostmaster(data);
      await waitGone(data);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Whether a server at `url` answers `SELECT 1` within a second. */
export async function isUp(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
  client.on("error", () => {});
  try {
    await client.connect();
    await client.query("SELECT 1");
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

// A small footprint keeps several clusters cheap. fsync can go (the machine does not lose power mid-test;
// the OS keeps what was written), but a commit must be in the WAL before it is acknowledged: the tests
// kill the server (`immediate`), and with synchronous_commit off an acknowledged commit can vanish then,
// which is a broken database, not an outage Kiln must survive.
const SETTINGS = [
  "fsync = off",
  "full_page_writes = off",
  "shared_buffers = 16MB",
  "max_connections = 50",
  "max_wal_size = 64MB",
];

/**
 * An initdb'd data directory to copy (initdb takes ~1 s, a copy ~0.1 s), kept in the temp dir across runs
 * under a name derived from the binaries, the settings and the owner, so a change to any makes a new one.
 */
async function makeTemplate(): Promise<string> {
  const key = createHash("sha256")
    .update([binDir(), owner().join(":"), ...SETTINGS].join("\n"))
    .digest("hex")
    .slice(0, 12);
  const cached = path.join(os.tmpdir(), `${PREFIX}template-${key}`);
  if (existsSync(cached)) return path.join(cached, "data");
  const dir = await makeDir("t");
  const data = path.join(dir, "data");
  await run(path.join(binDir(), "initdb"), [
    "-D",
    data,
    "-U",
    "postgres",
    "-A",
    "trust",
    "-E",
    "UTF8",
    "--locale=C",
    "--no-sync",
  ]);
  await appendFile(path.join(data, "postgresql.conf"), ["", ...SETTINGS, ""].join("\n"));
  // Renamed into place whole, so a template that exists is complete; when another process won the race, use its.
  try {
    await rename(dir, cached);
  } catch {
    await rm(dir, { recursive: true, force: true });
  }
  return path.join(cached, "data");
}

async function makeDir(kind: string): Promise<string> {
  const dir = path.join(os.tmpdir(), `${PREFIX}${process.pid}-${kind}-${randomBytes(4).toString("hex")}`);
  await mkdir(dir, { mode: 0o700 });
  await ownedByPostgres(dir);
  return dir;
}

/** Through a descriptor (never by path, as the trust rule's source scan demands everywhere). */
async function ownedByPostgres(file: string): Promise<void> {
  const handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    await handle.chown(...owner());
  } finally {
    await handle.close();
  }
}

function pgCtl(args: string[]): Promise<string> {
  return run(path.join(binDir(), "pg_ctl"), args);
}

/** Runs `file` — as the postgres user when we are root, since PostgreSQL refuses to run as root. */
function run(file: string, args: string[], asPostgres = true): Promise<string> {
  const [uid, gid] = asPostgres ? owner() : [undefined, undefined];
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      // pg_ctl start leaves postgres running with our pipes unless its output goes to the log file (-l).
      { uid, gid, cwd: os.tmpdir(), env: { ...process.env, LC_ALL: "C" }, timeout: 120_000 },
      (err, stdout, stderr) => {
        if (err)
          reject(new Error(`${path.basename(file)} ${args.join(" ")}: ${err.message}\n${stdout}${stderr}`));
        else resolve(stdout);
      },
    );
  });
}

let cachedBin: string | undefined;
function binDir(): string {
  cachedBin ??= findBinDir();
  return cachedBin;
}

/** Debian keeps the server binaries in /usr/lib/postgresql/<major>/bin, off PATH; the newest wins. */
function findBinDir(): string {
  if (process.env.KILN_PG_BIN) return process.env.KILN_PG_BIN;
  const root = "/usr/lib/postgresql";
  const majors = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(path.join(root, v, "bin", "initdb")))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (majors[0]) return path.join(root, majors[0], "bin");
  try {
    const initdb = execFileSync("sh", ["-c", "command -v initdb"], { encoding: "utf8" }).trim();
    if (initdb) return path.dirname(initdb);
  } catch {}
  throw new Error("no PostgreSQL server binaries (initdb): run scripts/setup-system.sh --e2e as root");
}

let cachedOwner: [number, number] | undefined;
function owner(): [number, number] {
  cachedOwner ??= findOwner();
  return cachedOwner;
}

/** The uid/gid to run PostgreSQL as: the postgres user when we are root (it refuses root), else ourselves. */
function findOwner(): [number, number] {
  if (process.getuid?.() !== 0) return [process.getuid?.() ?? 0, process.getgid?.() ?? 0];
  const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim());
  const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim());
  return [uid, gid];
}

function postmasterPid(data: string): number | undefined {
  try {
    const pid = Number(readFileSync(path.join(data, "postmaster.pid"), "utf8").split("\n")[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** A running postgres process (not a zombie waiting for PID 1 to reap it, not a reused pid). */
function isPostgres(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return comm.startsWith("postgres") && state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

/** SIGQUIT is PostgreSQL's immediate shutdown: the postmaster takes its backends down with it. */
function killPostmaster(data: string): void {
  const pid = postmasterPid(data);
  if (pid && isPostgres(pid)) {
    try {
      process.kill(pid, "SIGQUIT");
    } catch {}
  }
}

async function waitGone(data: string): Promise<void> {
  const pid = postmasterPid(data);
  const end = Date.now() + 10_000;
  while (pid && isPostgres(pid) && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
}

/** The same for an exit hook, which cannot await: the directory can only go once postgres stopped writing to it. */
function waitGoneSync(data: string): void {
  const pid = postmasterPid(data);
  const end = Date.now() + 5_000;
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  while (pid && isPostgres(pid) && Date.now() < end) Atomics.wait(sleeper, 0, 0, 20);
}

/** Clusters left by a test process that was killed (SIGKILL skips exit hooks): stop them, remove the dirs. */
function sweepOrphans(): void {
  let names: string[];
  try {
    names = readdirSync(os.tmpdir()).filter((n) => n.startsWith(PREFIX));
  } catch {
    return;
  }
  for (const name of names) {
    const ownerPid = Number(name.slice(PREFIX.length).split("-")[0]);
    if (!Number.isInteger(ownerPid) || ownerPid === process.pid || alive(ownerPid)) continue;
    const dir = path.join(os.tmpdir(), name);
    killPostmaster(path.join(dir, "data"));
    waitGoneSync(path.join(dir, "data"));
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {}
  }
}

/** Kills and removes every cluster of this process, synchronously (an exit hook cannot wait). */
function destroyAllSync(): void {
  for (const dir of [...live]) {
    live.delete(dir);
    killPostmaster(path.join(dir, "data"));
    waitGoneSync(path.join(dir, "data"));
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {}
  }
}

// A test that crashes or forgets destroy() must not leave a postgres running. Vitest ends its worker
// processes with SIGTERM, which skips 'exit' hooks: clean up then too, and end the process as SIGTERM would
// unless someone else handles it.
process.once("exit", destroyAllSync);
process.once("SIGTERM", () => {
  destroyAllSync();
  if (process.listenerCount("SIGTERM") === 0) process.kill(process.pid, "SIGTERM");
});
