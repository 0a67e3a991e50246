/**
 * PostgreSQL restarts under a running Kiln (issue #20 "Database outages"): how long after a restart begins
 * does Kiln answer an authenticated, database-reading request again, and what do users get meanwhile?
 *
 * A PostgreSQL cluster of the bench's own (packages/server/src/testing/pg-cluster.ts; the shared server on
 * 5432 is never touched), `kiln start` on it, one signed-up user polling `GET /api/orgs` every 20 ms, and
 * KILN_BENCH_RESTARTS (default 10) `pg_ctl restart -m fast` (KILN_BENCH_PG_MODE=immediate for crashes).
 * Per restart: restart begins → the first 200 from Kiln to a request sent once the database was down. The
 * baseline, measured in the same run at the same time, is restart begins → the first plain `pg` connection
 * (connect + SELECT 1, opened once the database was down) that succeeds: the outage PostgreSQL itself causes.
 * "Down" is the first failed probe of either kind after the restart began. Also counted: the non-200
 * answers Kiln gave during the outages, by status (0 = no HTTP answer at all).
 *
 *   npm exec -- node bench/db-recovery.ts
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { freePort } from "../packages/server/src/testing/free-port.ts";
import { type PgCluster, type StopMode, startPgCluster } from "../packages/server/src/testing/pg-cluster.ts";
import { stopProcess } from "./lib/process.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const CLI = path.join(ROOT, "packages/server/src/cli.ts");
const RESTARTS = Math.max(3, Number(process.env.KILN_BENCH_RESTARTS ?? 10) || 10);
const MODE = (process.env.KILN_BENCH_PG_MODE ?? "fast") as StopMode;
const POLL_MS = 20;
const PG_POLL_MS = 5;
/** Longest a recovery may take before the bench gives up on it. */
const RECOVERY_LIMIT_MS = 60_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");

function pct(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** One probe: when it was sent, when it was answered, and whether that was a success. */
interface Probe {
  sent: number;
  done: number;
  ok: boolean;
  /** HTTP status for Kiln's probes (0: no HTTP answer); 0/1 for PostgreSQL's. */
  status: number;
}

/** Fires `probe` every `everyMs` (without waiting for the previous one) and keeps every result. */
function poller(everyMs: number, probe: () => Promise<{ ok: boolean; status: number }>) {
  const results: Probe[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const sent = performance.now();
      void probe().then(({ ok, status }) => results.push({ sent, done: performance.now(), ok, status }));
      await sleep(everyMs);
    }
  })();
  return {
    results,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

async function pgProbe(url: string): Promise<{ ok: boolean; status: number }> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  client.on("error", () => {});
  try {
    await client.connect();
    await client.query("SELECT 1");
    return { ok: true, status: 1 };
  } catch {
    return { ok: false, status: 0 };
  } finally {
    await client.end().catch(() => {});
  }
}

function kilnProbe(base: string, token: string): () => Promise<{ ok: boolean; status: number }> {
  return async () => {
    try {
      const res = await fetch(`${base}/api/orgs`, {
        headers: { authorization: `Bearer ${token}` },
        signal: AbortSignal.timeout(30_000),
      });
      await res.arrayBuffer();
      return { ok: res.status === 200, status: res.status };
    } catch {
      return { ok: false, status: 0 };
    }
  };
}

async function startKiln(cluster: PgCluster, dataDir: string) {
  const port = await freePort();
  const child = spawn(process.execPath, [CLI, "start"], {
    cwd: ROOT,
    env: {
      ...process.env,
      KILN_DATA_DIR: dataDir,
      DATABASE_URL: cluster.url,
      PORT: String(port),
      HOST: "127.0.0.1",
      LOG_LEVEL: "warn",
      KILN_EMBEDDED_WORKERS: "0",
      KILN_SECRET_KEY: Buffer.alloc(32, 7).toString("base64"),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d));
  child.stderr!.on("data", (d: Buffer) => (out += d));
  const base = `http://127.0.0.1:${port}`;
  const t0 = performance.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`kiln start exited ${child.exitCode}:\n${out.slice(-3000)}`);
    if (performance.now() - t0 > 120_000)
      throw new Error(`kiln start not ready in 120 s:\n${out.slice(-3000)}`);
    const ok = await fetch(`${base}/health`)
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) break;
    await sleep(50);
  }
  return { child, base, output: () => out };
}

async function signUp(base: string): Promise<string> {
  const res = await fetch(`${base}/api/auth/signup`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email: "bench@example.com", password: "correct horse battery", name: "Bench" }),
  });
  if (res.status !== 201) throw new Error(`signup: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { accessToken: string }).accessToken;
}

/** The first success among probes sent at or after `from`. */
function firstSuccessAfter(results: Probe[], from: number): Probe | undefined {
  return results.filter((r) => r.ok && r.sent >= from).sort((a, b) => a.done - b.done)[0];
}

interface Cycle {
  kilnMs: number;
  pgMs: number;
  pgCtlMs: number;
  /** Non-200 answers from Kiln to requests sent between the restart's begin and Kiln's recovery. */
  statuses: Map<number, number>;
}

async function cycle(
  cluster: PgCluster,
  kiln: { child: ChildProcess; output(): string },
  kilnPoll: { results: Probe[] },
): Promise<Cycle> {
  // Only around a restart: a connection every few ms costs PostgreSQL a backend each.
  const pgPoll = poller(PG_POLL_MS, () => pgProbe(cluster.url));
  try {
    return await measureCycle(cluster, kiln, kilnPoll, pgPoll);
  } finally {
    await pgPoll.stop();
  }
}

async function measureCycle(
  cluster: PgCluster,
  kiln: { child: ChildProcess; output(): string },
  kilnPoll: { results: Probe[] },
  pgPoll: { results: Probe[] },
): Promise<Cycle> {
  const begin = performance.now();
  await cluster.restart({ mode: MODE });
  const pgCtlMs = performance.now() - begin;
  for (;;) {
    const since = (r: Probe) => r.sent >= begin;
    const firstFail = [...kilnPoll.results, ...pgPoll.results]
      .filter((r) => since(r) && !r.ok)
      .reduce((min, r) => Math.min(min, r.sent), Number.POSITIVE_INFINITY);
    const down = Number.isFinite(firstFail) ? firstFail : undefined;
    const kilnUp = down === undefined ? undefined : firstSuccessAfter(kilnPoll.results, down);
    const pgUp = down === undefined ? undefined : firstSuccessAfter(pgPoll.results, down);
    if (kilnUp && pgUp) {
      const statuses = new Map<number, number>();
      for (const r of kilnPoll.results)
        if (r.sent >= begin && r.sent <= kilnUp.done && !r.ok)
          statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      return { kilnMs: kilnUp.done - begin, pgMs: pgUp.done - begin, pgCtlMs, statuses };
    }
    if (kiln.child.exitCode !== null || kiln.child.signalCode !== null)
      throw new Error(
        `kiln exited (${kiln.child.exitCode ?? kiln.child.signalCode}) during the outage:\n${kiln.output().slice(-3000)}`,
      );
    if (performance.now() - begin > RECOVERY_LIMIT_MS)
      throw new Error(
        `no recovery within ${RECOVERY_LIMIT_MS / 1000} s (down seen: ${down !== undefined}, PostgreSQL up: ${!!pgUp}, Kiln up: ${!!kilnUp}):\n${kiln.output().slice(-3000)}`,
      );
    await sleep(10);
  }
}

function table(cycles: Cycle[]): string {
  const f = (v: number) => (Number.isNaN(v) ? "—" : v.toFixed(0));
  const col = (pick: (c: Cycle) => number) => {
    const values = cycles.map(pick);
    return [pct(values, 50), pct(values, 90), Math.max(...values)];
  };
  const kiln = col((c) => c.kilnMs);
  const base = col((c) => c.pgMs);
  const ctl = col((c) => c.pgCtlMs);
  const rows = [
    ["PostgreSQL accepts a connection (baseline)", ...base.map(f)],
    ["Kiln answers GET /api/orgs 200", ...kiln.map(f)],
    ["ratio Kiln / baseline", ...kiln.map((k, i) => `${(k / base[i]!).toFixed(2)}x`)],
    ["(pg_ctl restart -w returns)", ...ctl.map(f)],
  ];
  const header = [`restart begins → (${MODE}, n=${cycles.length})`, "p50 ms", "p90 ms", "max ms"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

process.stdout.write(
  `db-recovery: pg_ctl restart -m ${MODE} under a polled Kiln, node ${process.version}, load ${load()}\n`,
);
const cluster = await startPgCluster();
const dataDir = await mkdtemp(path.join(os.tmpdir(), "kiln-bench-dbrec-"));
let kiln: Awaited<ReturnType<typeof startKiln>> | undefined;
try {
  kiln = await startKiln(cluster, dataDir);
  const token = await signUp(kiln.base);
  const kilnPoll = poller(POLL_MS, kilnProbe(kiln.base, token));
  const cycles: Cycle[] = [];
  try {
    await sleep(500);
    for (let i = 0; i < RESTARTS; i++) {
      cycles.push(await cycle(cluster, kiln, kilnPoll));
      // Let the pool and the LISTEN connection settle before the next restart.
      await sleep(1000);
    }
  } finally {
    await kilnPoll.stop();
  }
  process.stdout.write(`${table(cycles)}\n`);
  const statuses = new Map<number, number>();
  for (const c of cycles) for (const [s, n] of c.statuses) statuses.set(s, (statuses.get(s) ?? 0) + n);
  const listed = [...statuses]
    .sort(([a], [b]) => a - b)
    .map(([s, n]) => `${s === 0 ? "no answer" : s}: ${n}`);
  process.stdout.write(
    `non-200 answers during the ${cycles.length} outages (polled every ${POLL_MS} ms): ${listed.join(", ") || "none"}\n`,
  );
  if (kiln.child.exitCode !== null || kiln.child.signalCode !== null)
    throw new Error(`kiln exited:\n${kiln.output().slice(-3000)}`);
} finally {
  if (kiln) await stopProcess(kiln.child);
  await cluster.destroy();
  await rm(dataDir, { recursive: true, force: true });
}
process.stdout.write(`load after: ${load()}\n`);
