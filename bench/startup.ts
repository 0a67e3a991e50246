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
 *   npm exec -- node bench/startup.ts
 *   KILN_BENCH_RESTARTS=3 npm exec -- node bench/startup.ts
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { freePort } from "../packages/server/src/testing/free-port.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const CLI = path.join(ROOT, "packages/server/src/cli.ts");
const RESTARTS = Math.max(3, Number(process.env.KILN_BENCH_RESTARTS ?? 5) || 5);
const ADMIN_URL = process.env.KILN_BENCH_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

interface Timings {
  dbOpenMs: number;
  migrateMs: number;
  appMs: number;
}
interface Start {
  readyMs: number;
  timings: Timings;
}

const median = (values: number[]) => {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Spawns `kiln start`, waits until /health answers, then stops it with SIGTERM. */
async function startOnce(env: Record<string, string>): Promise<Start> {
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
    return { readyMs, timings };
  } finally {
    await stop(child);
  }
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill("SIGKILL"), 15_000);
    child.once("exit", () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

/** A bare Node process that opens the same database and runs SELECT 1. */
function baselineOnce(open: { pgliteDir?: string; databaseUrl?: string }): Promise<number> {
  const script = open.databaseUrl
    ? `import pg from "pg"; const c = new pg.Client(${JSON.stringify(open.databaseUrl)}); await c.connect(); await c.query("SELECT 1"); await c.end();`
    : `import { PGlite } from "@electric-sql/pglite"; const d = await PGlite.create(${JSON.stringify(open.pgliteDir)}); await d.query("SELECT 1"); await d.close();`;
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
      cwd: path.join(ROOT, "packages/server"),
      stdio: ["ignore", "ignore", "inherit"],
    });
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0 ? resolve(performance.now() - t0) : reject(new Error(`baseline exited ${code}`)),
    );
  });
}

interface Row {
  name: string;
  baselineMs: number;
  readyMs: number;
  timings: Timings;
}

async function measure(
  name: string,
  env: Record<string, string>,
  open: { pgliteDir?: string; databaseUrl?: string },
): Promise<Row[]> {
  const first = await startOnce(env);
  const firstBaseline = await baselineOnce(open);
  const ready: number[] = [];
  const baselines: number[] = [];
  const phases: Timings[] = [];
  for (let i = 0; i < RESTARTS; i++) {
    baselines.push(await baselineOnce(open));
    const s = await startOnce(env);
    ready.push(s.readyMs);
    phases.push(s.timings);
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
    },
  ];
}

async function embedded(): Promise<Row[]> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "kiln-bench-start-"));
  try {
    return await measure("embedded", { KILN_DATA_DIR: dataDir }, { pgliteDir: path.join(dataDir, "db") });
  } finally {
    await rm(dataDir, { recursive: true, force: true });
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
    await rm(dataDir, { recursive: true, force: true });
  }
}

function table(rows: Row[]): string {
  const header = ["case", "baseline ms", "ready ms", "ratio", "db open ms", "migrate ms", "app ms"];
  const body = rows.map((r) => [
    r.name,
    r.baselineMs.toFixed(0),
    r.readyMs.toFixed(0),
    `${(r.readyMs / r.baselineMs).toFixed(2)}x`,
    r.timings.dbOpenMs.toFixed(0),
    r.timings.migrateMs.toFixed(0),
    r.timings.appMs.toFixed(0),
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
