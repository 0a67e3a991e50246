/**
 * How start-up time grows with the number of tenants (one schema per org).
 *
 * For PGlite (a data dir in a temp folder) and PostgreSQL (a fresh `kiln_bench_<random>` database,
 * dropped at the end): start Kiln with one tenant, grow to KILN_BENCH_TENANTS (default 1,000), and time
 * restarts at both sizes. The baseline, measured in the same run on the same database, is a bare open of
 * the database plus `SELECT 1`: what any restart costs before Kiln does anything of its own.
 *
 *   npm exec -- node bench/tenants.ts
 *   KILN_BENCH_TENANTS=100 KILN_BENCH_RESTARTS=3 npm exec -- node bench/tenants.ts
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { sql } from "drizzle-orm";
import pg from "pg";
import { loadConfig } from "../packages/server/src/config.ts";
import { type OpenDatabaseOptions, openDatabase, query } from "../packages/server/src/db/client.ts";
import { createKiln, type Kiln } from "../packages/server/src/kiln.ts";

const TENANTS = positiveInt("KILN_BENCH_TENANTS", 1000);
const RESTARTS = Math.max(3, positiveInt("KILN_BENCH_RESTARTS", 5));
const ADMIN_URL = process.env.KILN_BENCH_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

interface Row {
  db: string;
  tenants: number;
  baselineMs: number;
  restartMs: number;
  migrateMs: number;
}

function positiveInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got ${raw}`);
  return n;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

interface Target {
  name: string;
  env: Record<string, string>;
  /** How the baseline opens the same database Kiln uses. */
  open: OpenDatabaseOptions;
}

async function start(target: Target): Promise<{ kiln: Kiln; ms: number }> {
  const config = loadConfig({
    ...target.env,
    LOG_LEVEL: "silent",
    // One user grows the instance to TENANTS orgs: the per-user cap would stop it at ten.
    KILN_MAX_ORGS_PER_USER: "0",
    // Fixed, so restarts never depend on a key file being written.
    KILN_SECRET_KEY: Buffer.alloc(32, 7).toString("base64"),
  });
  const t0 = performance.now();
  const kiln = await createKiln(config);
  return { kiln, ms: performance.now() - t0 };
}

async function baselineOnce(target: Target): Promise<number> {
  const t0 = performance.now();
  const database = await openDatabase(target.open);
  await database.db.execute(sql`SELECT 1`);
  const ms = performance.now() - t0;
  await database.close();
  return ms;
}

/**
 * Restarts and baselines alternate, so drift in the machine's load hits both alike. The first round only
 * warms up (JIT, file cache), so the first row measured is not penalised for going first.
 */
async function measure(target: Target, tenants: number): Promise<Row> {
  const restarts: number[] = [];
  const migrations: number[] = [];
  const baselines: number[] = [];
  for (let i = -1; i < RESTARTS; i++) {
    const baseline = await baselineOnce(target);
    const { kiln, ms } = await start(target);
    if (i >= 0) {
      baselines.push(baseline);
      restarts.push(ms);
      migrations.push(kiln.timings.migrateMs);
    }
    const [count] = await query<{ n: number }>(kiln.database.db, sql`SELECT count(*)::int AS n FROM orgs`);
    await kiln.close();
    if (count?.n !== tenants) throw new Error(`expected ${tenants} tenants, found ${count?.n}`);
  }
  return {
    db: target.name,
    tenants,
    baselineMs: median(baselines),
    restartMs: median(restarts),
    migrateMs: median(migrations),
  };
}

/** Grows to `total` tenants through OrgService, the code path POST /api/orgs runs, minus HTTP. */
async function grow(target: Target, userId: string, total: number): Promise<number> {
  const { kiln } = await start(target);
  try {
    const t0 = performance.now();
    const [existing] = await query<{ n: number }>(kiln.database.db, sql`SELECT count(*)::int AS n FROM orgs`);
    for (let i = existing!.n; i < total; i++) {
      await kiln.services.orgs.create(userId, { name: `Bench org ${i}`, slug: `bench-${i}` });
    }
    return (total - existing!.n) / ((performance.now() - t0) / 1000);
  } finally {
    await kiln.close();
  }
}

async function run(target: Target): Promise<{ rows: Row[]; firstStartMs: number; orgsPerSecond: number }> {
  // First start on an empty database: applies every migration.
  const first = await start(target);
  const signup = await first.kiln.app.inject({
    method: "POST",
    url: "/api/auth/signup",
    payload: { email: "bench@example.com", password: "correct horse battery", name: "Bench" },
  });
  await first.kiln.close();
  if (signup.statusCode !== 201) throw new Error(`signup failed: ${signup.statusCode} ${signup.body}`);
  const userId: string = signup.json().user.id;

  // Sign-up made the personal org: one tenant.
  const rows = [await measure(target, 1)];
  const orgsPerSecond = TENANTS > 1 ? await grow(target, userId, TENANTS) : Number.NaN;
  if (TENANTS > 1) rows.push(await measure(target, TENANTS));
  return { rows, firstStartMs: first.ms, orgsPerSecond };
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

async function pglite() {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "kiln-bench-"));
  try {
    return await run({
      name: "pglite",
      env: { KILN_DATA_DIR: dataDir },
      open: { pgliteDir: path.join(dataDir, "db") },
    });
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function postgres() {
  const name = `kiln_bench_${randomBytes(4).toString("hex")}`;
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "kiln-bench-"));
  await admin(`CREATE DATABASE "${name}"`);
  try {
    return await run({
      name: "postgres",
      env: { KILN_DATA_DIR: dataDir, DATABASE_URL: url.toString() },
      open: { databaseUrl: url.toString() },
    });
  } finally {
    await admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await rm(dataDir, { recursive: true, force: true });
  }
}

function table(rows: Row[]): string {
  const header = ["db", "tenants", "baseline ms", "restart ms", "migrate ms", "ratio vs baseline"];
  const body = rows.map((r) => [
    r.db,
    String(r.tenants),
    r.baselineMs.toFixed(1),
    r.restartMs.toFixed(1),
    r.migrateMs.toFixed(1),
    `${(r.restartMs / r.baselineMs).toFixed(2)}x`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...body.map(line)].join("\n");
}

async function main(): Promise<void> {
  process.stdout.write(
    `tenants: start-up with 1 and ${TENANTS} tenants, median of ${RESTARTS} restarts (node ${process.version})\n`,
  );
  const rows: Row[] = [];
  const notes: string[] = [];
  for (const [db, bench] of [
    ["pglite", pglite],
    ["postgres", postgres],
  ] as const) {
    try {
      const result = await bench();
      rows.push(...result.rows);
      notes.push(
        `${db}: first start on an empty database ${result.firstStartMs.toFixed(0)} ms; ` +
          `created ${Number.isNaN(result.orgsPerSecond) ? "no" : `${result.orgsPerSecond.toFixed(0)} orgs/s`}`,
      );
    } catch (err) {
      // No PostgreSQL on this machine should not hide the PGlite numbers.
      notes.push(`${db}: skipped (${err instanceof Error ? err.message : String(err)})`);
      process.exitCode = 1;
    }
  }
  process.stdout.write(`\n${table(rows)}\n\n${notes.join("\n")}\n`);
}

await main();
