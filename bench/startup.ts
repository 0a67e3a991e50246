/**
 * `kiln start` → ready: how long a user waits between the command and a studio that answers, as a whole
 * process (Node start, module loading, database open, migrations, app), embedded (PGlite) and on PostgreSQL.
 *
 * Cases: embedded first start (an empty data dir: the database is created), embedded restart (the same dir),
 * PostgreSQL first start (a fresh database) and restart. Ready = `GET /health` answers 200. The baseline,
 * measured in the same run and alternated with each start so load drifts hit both alike, is a bare Node
 * process that opens the same database and runs `SELECT 1` — what any start costs before Kiln does
 * anything of its own. The phases come from Kiln's own start-up log line (`timings`).
 *
 * Memory: the last restart of each case idles `KILN_BENCH_IDLE_MS` (10 s) after ready, then its RSS and peak
 * RSS (VmHWM) are read; the baseline's RSS is read right after its query. Embedded minus PostgreSQL is what
 * PGlite costs inside the server; PostgreSQL minus its baseline is Kiln's own.
 *
 *   npm exec -- node bench/startup.ts
 *   KILN_BENCH_RESTARTS=3 npm exec -- node bench/startup.ts
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { freePort } from "../packages/server/src/testing/free-port.ts";
import { stopProcess } from "./lib/process.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const CLI = path.join(ROOT, "packages/server/src/cli.ts");
const RESTARTS = Math.max(3, Number(process.env.KILN_BENCH_RESTARTS ?? 5) || 5);
/** How long a started server idles before its memory is read (once per case, after the last restart). */
const IDLE_MS = Number(process.env.KILN_BENCH_IDLE_MS ?? 10_000) || 10_000;
const ADMIN_URL = process.env.KILN_BENCH_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

interface Timings {
  dbOpenMs: number;
  migrateMs: number;
  appMs: number;
}
interface Start {
  readyMs: number;
  timings: Timings;
  /** Resident memory `IDLE_MS` after ready (only when asked for), MB. */
  idle?: Memory;
}
interface Memory {
  rssMb: number;
  peakMb: number;
}

const median = (values: number[]) => {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Spawns `kiln start`, waits until /health answers, then stops it with SIGTERM. */
async function startOnce(env: Record<string, string>, measureIdle = false): Promise<Start> {
  const port = await freePort();
  const t0 = performance.now();
  const child = spawn(process.execPath, [CLI, "start"], {
    cwd: ROOT,
    env: {
      ...process.env,
      ...env,
      PORT: String(port),
      HOST: "127.0.0.1",
      LOG_LEVEL: "info",
      // The start itself, not what it does afterwards in the background.
      KILN_EMBEDDED_WORKERS: "0",
      KILN_SECRET_KEY: Buffer.alloc(32, 7).toString("base64"),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let timings: Timings | undefined;
  child.stdout!.on("data", (d: Buffer) => {
    out += d;
    for (const line of out.split("\n")) {
      if (!line.includes('"timings"')) continue;
      try {
        timings = (JSON.parse(line) as { timings: Timings }).timings;
      } catch {}
    }
  });
  child.stderr!.on("data", (d: Buffer) => {
    out += d;
  });
  try {
    for (;;) {
      if (child.exitCode !== null)
        throw new Error(`kiln start exited ${child.exitCode}:\n${out.slice(-2000)}`);
      if (performance.now() - t0 > 120_000)
        throw new Error(`kiln start not ready in 120 s:\n${out.slice(-2000)}`);
      const ok = await fetch(`http://127.0.0.1:${port}/health`)
        .then((r) => r.ok)
        .catch(() => false);
      if (ok) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    const readyMs = performance.now() - t0;
    for (let i = 0; !timings && i < 40; i++) await new Promise((r) => setTimeout(r, 25));
    if (!timings) throw new Error(`no timings line in the start-up log:\n${out.slice(-2000)}`);
    if (!measureIdle) return { readyMs, timings };
    await new Promise((r) => setTimeout(r, IDLE_MS));
    // `kiln start` re-executes itself with its heap flags (cli.ts): the same pid.
    return { readyMs, timings, idle: memoryOf(child.pid!) };
  } finally {
    await stopProcess(child);
  }
}

/** VmRSS and VmHWM (peak) of a live process, MB. */
function memoryOf(pid: number): Memory {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? Number.NaN);
  return { rssMb: kb("VmRSS") / 1024, peakMb: kb("VmHWM") / 1024 };
}

/**
 * A bare Node process that opens the same database and runs SELECT 1: its time, and its RSS once the query
 * is done (with Kiln's PGlite start flags and V8 flags, so the difference to Kiln is Kiln's own).
 */
function baselineOnce(open: {
  pgliteDir?: string;
  databaseUrl?: string;
}): Promise<{ ms: number; mem: Memory }> {
  const mem = `const s = (await import("node:fs")).readFileSync("/proc/self/status", "utf8"); const kb = (k) => Number(new RegExp(k + ":\\\\s+(\\\\d+)").exec(s)[1]) / 1024; process.stdout.write(JSON.stringify({ rssMb: kb("VmRSS"), peakMb: kb("VmHWM") }));`;
  const script = open.databaseUrl
    ? `import pg from "pg"; const c = new pg.Client(${JSON.stringify(open.databaseUrl)}); await c.connect(); await c.query("SELECT 1"); ${mem} await c.end();`
    : `import { PGlite } from "@electric-sql/pglite"; const d = await PGlite.create({ dataDir: ${JSON.stringify(open.pgliteDir)}, startParams: [...PGlite.defaultStartParams, "-c", "shared_buffers=16MB"] }); await d.query("SELECT 1"); ${mem} await d.close();`;
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--max-semi-space-size=16", "--liftoff-only", "--input-type=module", "-e", script],
      {
        cwd: path.join(ROOT, "packages/server"),
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    let out = "";
    child.stdout!.on("data", (d: Buffer) => {
      out += d;
    });
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0
        ? resolve({ ms: performance.now() - t0, mem: JSON.parse(out) as Memory })
        : reject(new Error(`baseline exited ${code}`)),
    );
  });
}

interface Row {
  name: string;
  baselineMs: number;
  readyMs: number;
  timings: Timings;
  baselineMem?: Memory;
  idle?: Memory;
}

async function measure(
  name: string,
  env: Record<string, string>,
  open: { pgliteDir?: string; databaseUrl?: string },
): Promise<Row[]> {
  const first = await startOnce(env);
  const firstBaseline = (await baselineOnce(open)).ms;
  const ready: number[] = [];
  const baselines: number[] = [];
  const phases: Timings[] = [];
  let idle: Memory | undefined;
  let baselineMem: Memory | undefined;
  for (let i = 0; i < RESTARTS; i++) {
    const b = await baselineOnce(open);
    baselines.push(b.ms);
    baselineMem = b.mem;
    const s = await startOnce(env, i === RESTARTS - 1);
    ready.push(s.readyMs);
    phases.push(s.timings);
    idle ??= s.idle;
  }
  const pick = (k: keyof Timings) => median(phases.map((p) => p[k]));
  return [
    {
      name: `${name}, first start`,
      baselineMs: firstBaseline,
      readyMs: first.readyMs,
      timings: first.timings,
    },
    {
      name: `${name}, restart (median of ${RESTARTS})`,
      baselineMs: median(baselines),
      readyMs: median(ready),
      timings: { dbOpenMs: pick("dbOpenMs"), migrateMs: pick("migrateMs"), appMs: pick("appMs") },
      ...(baselineMem ? { baselineMem } : {}),
      ...(idle ? { idle } : {}),
    },
  ];
}

async function embedded(): Promise<Row[]> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "kiln-bench-start-"));
  try {
    return await measure("embedded", { KILN_DATA_DIR: dataDir }, { pgliteDir: path.join(dataDir, "db") });
  } finally {
    // The killed server's background template install may still be finishing its writes.
    await rm(dataDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 500 });
  }
}

async function admin(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

async function postgres(): Promise<Row[]> {
  const name = `kiln_bench_${randomBytes(4).toString("hex")}`;
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "kiln-bench-start-"));
  await admin(`CREATE DATABASE "${name}"`);
  try {
    return await measure(
      "postgres",
      { KILN_DATA_DIR: dataDir, DATABASE_URL: url.toString() },
      { databaseUrl: url.toString() },
    );
  } finally {
    await admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    // The killed server's background template install may still be finishing its writes.
    await rm(dataDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 500 });
  }
}

function table(rows: Row[]): string {
  const header = [
    "case",
    "baseline ms",
    "ready ms",
    "ratio",
    "db open ms",
    "migrate ms",
    "app ms",
    "baseline RSS MB",
    `idle RSS MB (${IDLE_MS / 1000} s)`,
    "peak RSS MB",
  ];
  const mb = (m: Memory | undefined, k: keyof Memory) => (m ? m[k].toFixed(0) : "");
  const body = rows.map((r) => [
    r.name,
    r.baselineMs.toFixed(0),
    r.readyMs.toFixed(0),
    `${(r.readyMs / r.baselineMs).toFixed(2)}x`,
    r.timings.dbOpenMs.toFixed(0),
    r.timings.migrateMs.toFixed(0),
    r.timings.appMs.toFixed(0),
    mb(r.baselineMem, "rssMb"),
    mb(r.idle, "rssMb"),
    mb(r.idle, "peakMb"),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...body.map(line)].join("\n");
}

process.stdout.write(
  `startup: kiln start → /health 200, node ${process.version}, load ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")}\n`,
);
const rows = [...(await embedded()), ...(await postgres())];
process.stdout.write(`${table(rows)}\n`);
process.stdout.write(
  `load after: ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")}\n`,
);
