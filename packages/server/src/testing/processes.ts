import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { TEST_TEMPLATE_CACHE_DIR } from "./harness.ts";
import { ADMIN_URL } from "./postgres-setup.ts";

/**
 * Real `kiln start` and `kiln worker` processes for system tests (`*.sys.test.ts`): what an operator runs,
 * so a test can kill -9 one, cut its network, or restart it on the same data.
 */

export const CLI = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "cli.ts");

export interface KilnProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  /** Sends `signal` and waits for the exit; a process already gone resolves at once. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

function track(child: ChildProcess): KilnProcess {
  let out = "";
  child.stdout?.on("data", (d) => (out += d));
  child.stderr?.on("data", (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return {
    child,
    pid: child.pid!,
    output: () => out,
    exited,
    stop: async (signal = "SIGTERM") => {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      return exited;
    },
  };
}

/** Waits until the process prints a line matching `re`; fails with its output if it exits first. */
export async function untilPrinted(p: KilnProcess, re: RegExp, ms = 60_000): Promise<RegExpExecArray> {
  const end = Date.now() + ms;
  for (;;) {
    const m = re.exec(p.output());
    if (m) return m;
    if (p.child.exitCode !== null || p.child.signalCode !== null)
      throw new Error(
        `process exited (${p.child.exitCode ?? p.child.signalCode}) before ${re}:\n${p.output()}`,
      );
    if (Date.now() > end) throw new Error(`timed out waiting for ${re}:\n${p.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface ServerProcess extends KilnProcess {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
}

/**
 * `kiln start` on `port` (fixed, so a restarted server is found again at the same address) with `env` on
 * top of a quiet test environment. The template cache is the suite's shared one.
 */
export async function startServerProcess(options: {
  dataDir: string;
  port: number;
  host?: string;
  env?: NodeJS.ProcessEnv;
}): Promise<ServerProcess> {
  const host = options.host ?? "127.0.0.1";
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KILN_DATA_DIR: options.dataDir,
    KILN_TEMPLATE_CACHE_DIR: TEST_TEMPLATE_CACHE_DIR,
    PORT: String(options.port),
    HOST: host,
    LOG_LEVEL: "warn",
    ...options.env,
  };
  const child = spawn(process.execPath, [CLI, "start"], { env, stdio: ["ignore", "pipe", "pipe"] });
  const p = track(child);
  await untilPrinted(p, /running at http/, 60_000);
  return { ...p, url: `http://${host}:${options.port}` };
}

export interface WorkerProcess extends KilnProcess {
  /** The id the server gave it, read from its "connected" line. */
  readonly workerId: string;
}

/**
 * `kiln worker` connected to `server`. `prefix` runs it through another command first, e.g.
 * `["ip", "netns", "exec", "ns1"]` to start it in another network namespace.
 */
export async function startWorkerProcess(options: {
  server: string;
  token: string;
  workDir: string;
  concurrency?: number;
  name?: string;
  prefix?: string[];
  env?: NodeJS.ProcessEnv;
}): Promise<WorkerProcess> {
  const args = [
    CLI,
    "worker",
    "--server",
    options.server,
    "--concurrency",
    String(options.concurrency ?? 1),
    "--work-dir",
    options.workDir,
    ...(options.name ? ["--name", options.name] : []),
  ];
  const [command, ...rest] = options.prefix?.length
    ? [...options.prefix, process.execPath, ...args]
    : [process.execPath, ...args];
  const child = spawn(command!, rest, {
    env: { ...process.env, KILN_WORKER_TOKEN: options.token, LOG_LEVEL: "warn", ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const p = track(child);
  const m = await untilPrinted(p, /kiln worker (\S+) connected/, 60_000);
  return { ...p, workerId: m[1]! };
}

/** A client of a server process, signed up as a fresh user with a bearer token. */
export interface ApiClient {
  // biome-ignore lint/suspicious/noExplicitAny: answers are read loosely; the tests check their shapes.
  call(method: string, url: string, body?: unknown): Promise<{ status: number; json: any }>;
  readonly token: string;
}

export async function signUp(server: string, email: string): Promise<ApiClient> {
  const res = await fetch(`${server}/api/auth/signup`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, password: "correct horse battery", name: "System test" }),
  });
  if (res.status !== 201) throw new Error(`signup: ${res.status} ${await res.text()}`);
  const { accessToken } = (await res.json()) as { accessToken: string };
  return clientFor(server, accessToken);
}

export function clientFor(server: string | (() => string), token: string): ApiClient {
  return {
    token,
    call: async (method, url, body) => {
      const base = typeof server === "function" ? server() : server;
      const res = await fetch(`${base}${url}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: res.status, json: await res.json().catch(() => undefined) };
    },
  };
}

/**
 * A database of its own for one system test file. Servers sharing a database are replicas of one Kiln (they
 * share the job queue), so two test files with separate data directories must never share one.
 */
export async function freshDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `kiln_sys_${process.pid}_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: ADMIN_URL });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await client.end();
    },
  };
}
