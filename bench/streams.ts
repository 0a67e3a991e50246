/**
 * What a flood of live streams from one user costs everyone else (issue #11, finding 6). One user opens
 * KILN_BENCH_STREAMS (default 1,500) job-event streams on a queued job of theirs — the job never ends, so
 * each stream stays open — and holds them while another tenant times KILN_BENCH_REQUESTS (default 300)
 * sequential `GET /api/orgs/:org/projects` calls. Baseline from the same run: the same calls on the same
 * server before the flood and after it is gone. Two servers, each a real `kiln start` (PGlite in a temp dir, or
 * KILN_BENCH_DATABASE_URL) without an embedded worker:
 *   - the default cap (KILN_MAX_STREAMS_PER_USER, 32): the rest of the flood is refused with 429;
 *   - the cap lifted (100,000): every stream is open, so what is left is the cost of the open sockets and
 *     of the one shared poller per job.
 * The load average is printed before and after each phase (2 shared cores: read the numbers with it).
 *
 *   npm exec -- node bench/streams.ts
 *   KILN_BENCH_STREAMS=500 KILN_BENCH_REQUESTS=200 npm exec -- node bench/streams.ts
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "../packages/server/src/testing/free-port.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const CLI = path.join(here, "../packages/server/src/cli.ts");
const STREAMS = positiveInt("KILN_BENCH_STREAMS", 1500);
const REQUESTS = positiveInt("KILN_BENCH_REQUESTS", 300);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function positiveInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got ${raw}`);
  return n;
}

function pct(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");

function startServer(env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [CLI, "start"], { env, stdio: ["ignore", "pipe", "pipe"] });
  process.once("exit", () => child.kill("SIGKILL"));
  let out = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`kiln start did not start:\n${out}`)), 120_000);
    const keep = (d: Buffer) => {
      if (out.length < 100_000) out += d;
      const match = /running at (http:\/\/\S+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve({ child, url: match[1]! });
      }
    };
    child.stdout!.on("data", keep);
    child.stderr!.on("data", keep);
    child.on("exit", (code, signal) =>
      reject(new Error(`kiln start exited with ${code ?? signal}:\n${out}`)),
    );
  });
}

async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  await Promise.race([exited, sleep(15_000)]);
  if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
}

// biome-ignore lint/suspicious/noExplicitAny: API answers are read loosely here; the tests check their shapes.
type Call = (method: string, url: string, body?: unknown) => Promise<any>;

async function user(base: string): Promise<{ token: string; call: Call }> {
  const signup = await fetch(`${base}/api/auth/signup`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      email: `bench-${randomBytes(4).toString("hex")}@example.com`,
      password: "correct horse battery",
      name: "Bench",
    }),
  });
  if (signup.status !== 201) throw new Error(`signup: ${signup.status} ${await signup.text()}`);
  const token = ((await signup.json()) as { accessToken: string }).accessToken;
  const auth = { authorization: `Bearer ${token}` };
  return {
    token,
    async call(method, url, body) {
      const res = await fetch(`${base}/api${url}`, {
        method,
        headers: body === undefined ? auth : { ...auth, "content-type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${await res.text()}`);
      return res.json();
    },
  };
}

/** Opens one stream; resolves with its status once the server answered (the request stays open on 200). */
function openStream(url: string, token: string): Promise<{ status: number; req: http.ClientRequest }> {
  return new Promise((resolve) => {
    const req = http.get(
      url,
      { headers: { authorization: `Bearer ${token}`, accept: "text/event-stream" }, agent: false },
      (res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0, req });
      },
    );
    req.on("error", () => resolve({ status: 0, req }));
  });
}

/** `REQUESTS` sequential API calls of the other tenant, each timed (ms). */
async function victimLatencies(base: string, token: string, org: string): Promise<number[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const out: number[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    const t0 = performance.now();
    await new Promise<void>((resolve, reject) => {
      http
        .get(
          `${base}/api/orgs/${org}/projects`,
          { headers: { authorization: `Bearer ${token}` }, agent },
          (res) => {
            res.resume();
            res.on("end", () =>
              res.statusCode === 200 ? resolve() : reject(new Error(`${res.statusCode}`)),
            );
          },
        )
        .on("error", reject);
    });
    out.push(performance.now() - t0);
  }
  agent.destroy();
  return out;
}

interface Row {
  server: string;
  phase: string;
  open: number;
  refused: number;
  latencies: number[];
  load: string;
}

async function measure(label: string, cap: string | undefined, work: string): Promise<Row[]> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KILN_DATA_DIR: path.join(work, label.replace(/\W+/g, "-")),
    PORT: String(port),
    HOST: "127.0.0.1",
    KILN_PUBLIC_URL: `http://127.0.0.1:${port}`,
    LOG_LEVEL: "warn",
    KILN_EMBEDDED_WORKERS: "0",
    // A slow phase must not outlive the bench users' access tokens.
    KILN_ACCESS_TOKEN_TTL_SECONDS: "86400",
    ...(process.env.KILN_BENCH_DATABASE_URL ? { DATABASE_URL: process.env.KILN_BENCH_DATABASE_URL } : {}),
  };
  if (cap) env.KILN_MAX_STREAMS_PER_USER = cap;
  else delete env.KILN_MAX_STREAMS_PER_USER;
  const { child, url } = await startServer(env);
  try {
    const attacker = await user(url);
    const victim = await user(url);
    const slug = (name: string) => `${name}-${randomBytes(3).toString("hex")}`;
    const a = await attacker.call("POST", "/orgs", { name: "Flood", slug: slug("flood") });
    const project = await attacker.call("POST", `/orgs/${a.slug}/projects`, {
      name: "App",
      template: "static",
    });
    const job = await attacker.call("POST", `/orgs/${a.slug}/projects/${project.slug}/jobs`, {
      kind: "review",
      instructions: "never taken: no worker runs",
    });
    const v = await victim.call("POST", "/orgs", { name: "Victim", slug: slug("victim") });
    await victim.call("POST", `/orgs/${v.slug}/projects`, { name: "Theirs", template: "static" });

    // Warm-up (JIT, caches), not counted.
    for (let i = 0; i < 3; i++) await victimLatencies(url, victim.token, v.slug);
    const rows: Row[] = [];
    const baseline = await victimLatencies(url, victim.token, v.slug);
    rows.push({ server: label, phase: "baseline", open: 0, refused: 0, latencies: baseline, load: load() });

    const streamUrl = `${url}/api/orgs/${a.slug}/jobs/${job.id}/events`;
    const opened: Array<{ status: number; req: http.ClientRequest }> = [];
    for (let i = 0; i < STREAMS; i += 100) {
      const batch = Math.min(100, STREAMS - i);
      opened.push(
        ...(await Promise.all(Array.from({ length: batch }, () => openStream(streamUrl, attacker.token)))),
      );
    }
    const open = opened.filter((s) => s.status === 200).length;
    const refused = opened.filter((s) => s.status === 429).length;
    // Let the streams settle into their steady state (pings, polls) before timing.
    await sleep(3_000);
    const flooded = await victimLatencies(url, victim.token, v.slug);
    rows.push({
      server: label,
      phase: `flood of ${STREAMS}`,
      open,
      refused,
      latencies: flooded,
      load: load(),
    });
    for (const s of opened) s.req.destroy();
    await sleep(3_000);
    // Again once the flood is gone: the machine is shared, so drift shows here rather than in the flood row.
    const after = await victimLatencies(url, victim.token, v.slug);
    rows.push({
      server: label,
      phase: "baseline after",
      open: 0,
      refused: 0,
      latencies: after,
      load: load(),
    });
    return rows;
  } finally {
    await stopServer(child);
  }
}

async function main(): Promise<void> {
  process.stdout.write(`load average at start: ${load()} (${os.cpus().length} CPUs); uptime: `);
  process.stdout.write(`${os.uptime().toFixed(0)} s\n`);
  const work = await mkdtemp(path.join(os.tmpdir(), "kiln-bench-streams-"));
  try {
    const rows = [
      ...(await measure("default cap", undefined, work)),
      ...(await measure("cap lifted", "100000", work)),
    ];
    process.stdout.write(
      `\nAnother tenant's GET /api/orgs/:org/projects, ${REQUESTS} sequential calls, while one user holds streams\n`,
    );
    process.stdout.write(
      `${"server".padEnd(12)} ${"phase".padEnd(16)} ${"open".padStart(5)} ${"429".padStart(5)} ${"p50 ms".padStart(8)} ${"p99 ms".padStart(8)} ${"max ms".padStart(8)}   load (1/5/15 min)\n`,
    );
    for (const r of rows) {
      process.stdout.write(
        `${r.server.padEnd(12)} ${r.phase.padEnd(16)} ${String(r.open).padStart(5)} ${String(r.refused).padStart(5)} ${pct(r.latencies, 50).toFixed(1).padStart(8)} ${pct(r.latencies, 99).toFixed(1).padStart(8)} ${Math.max(
          ...r.latencies,
        )
          .toFixed(1)
          .padStart(8)}   ${r.load}\n`,
      );
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

await main();
