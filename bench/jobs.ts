/**
 * What the job pipeline costs (issue 6): jobs per second through real `kiln worker` processes, and how long a
 * task moved to "In progress" waits before its job runs. In one run:
 *   (a) throughput: KILN_BENCH_JOBS (default 8) `implement` jobs queued at once, with N = 1, 2, 4 worker
 *       processes (KILN_BENCH_WORKERS; concurrency 1 each), after a warm-up job per worker: dispatched/s and
 *       completed/s, server and worker CPU per job, and from each job's events where its time goes (wait,
 *       clone, agent, commit, push) and the gap between a worker finishing a job and being handed the next;
 *   (b) latency: KILN_BENCH_TASKS (default and at least 10) tasks assigned to the agent, moved one at a time
 *       into "In progress" while the workers idle: POST …/move answered → the job's `running` state reaching
 *       a client (GET …/jobs?taskId, then the job's SSE stream), and from the server's stamps: move sent →
 *       queued → dispatched → running;
 *   (c) the git hop under each job's clone, ls-remote and push (every request one `git http-backend` forked in
 *       the project's warm git sandbox on the server): git clone and ls-remote over Kiln's smart HTTP.
 * Baselines from the same run: the raw queue in-process on the same database once the server has stopped
 * (JobQueue enqueue → claim → heartbeat (running) → complete, N loops at once) for (a) and (b); one
 * authenticated API round trip for (b); the same git commands over file:// for (c), and as a floor over plain
 * smart HTTP (the host's git http-backend behind a bare Node server: no auth, no sandbox).
 *
 * Kiln is the real `kiln start` (embedded PGlite in a temp data dir; KILN_BENCH_DATABASE_URL for PostgreSQL)
 * without its embedded worker, so only the bench's workers take jobs. The model is the scripted fake provider
 * answering every call at once with a short text and no tool call, so the numbers are Kiln's queue and
 * worker pipeline, not a model's. Template dependency caches are shared with bench/preview.ts
 * (KILN_TEMPLATE_CACHE_DIR, default <tmp>/kiln-bench-template-cache) and prepared before anything is timed.
 *
 *   npm run bench   or   npm exec -- node bench/jobs.ts
 *   KILN_BENCH_WORKERS=1,2 KILN_BENCH_JOBS=6 npm exec -- node bench/jobs.ts
 *   KILN_BENCH_PARTS=c npm exec -- node bench/jobs.ts     (only the parts named, e.g. `a,b` or `c`)
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { chmod, mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { inArray } from "drizzle-orm";
import { startFakeProvider } from "../packages/fake-provider/src/index.ts";
import type { Job, JobEvent } from "../packages/protocol/src/index.ts";
import { loadConfig } from "../packages/server/src/config.ts";
import { openDatabase } from "../packages/server/src/db/client.ts";
import { jobs, workers } from "../packages/server/src/db/schema-shared.ts";
import { JobQueue } from "../packages/server/src/jobs/queue.ts";
import { ProjectStorage } from "../packages/server/src/projects/storage.ts";
import { SANDBOX_UID } from "../packages/server/src/sandbox/sandbox-root.ts";
import { TemplateRegistry } from "../packages/server/src/templates/registry.ts";
import { TemplateService } from "../packages/server/src/templates/service.ts";
import { freePort } from "../packages/server/src/testing/free-port.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const CLI = path.join(here, "../packages/server/src/cli.ts");
const LEVELS = (process.env.KILN_BENCH_WORKERS ?? "1,2,4").split(",").map(positiveInt);
const JOBS = positiveInt(process.env.KILN_BENCH_JOBS ?? "8");
const TASKS = Math.max(10, positiveInt(process.env.KILN_BENCH_TASKS ?? "10"));
/** Runs of each git operation in (c). */
const GIT_RUNS = positiveInt(process.env.KILN_BENCH_GIT_RUNS ?? "5");
const PARTS = new Set((process.env.KILN_BENCH_PARTS ?? "a,b,c").split(",").map((p) => p.trim()));
/** Raw-queue round trips per level of the baseline. */
const QUEUE_ROUNDS = 50;
const CACHE_DIR = process.env.KILN_TEMPLATE_CACHE_DIR ?? path.join(os.tmpdir(), "kiln-bench-template-cache");
const FINAL = ["completed", "failed", "cancelled"];
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const secondsSince = (t: number) => `${((performance.now() - t) / 1000).toFixed(1)} s`;
/** Children the bench stopped itself, so their exit is not reported as a crash. */
const stopped = new WeakSet<ChildProcess>();

function positiveInt(raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`expected a positive integer, got ${JSON.stringify(raw)}`);
  return n;
}

function pct(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const num = (v: number, width = 9) => (Number.isNaN(v) ? "—" : v.toFixed(v < 10 ? 2 : 1)).padStart(width);
const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");

function table(title: string, rows: Array<{ what: string; values: number[]; base?: number[] }>): void {
  const width = Math.max(...rows.map((r) => r.what.length));
  process.stdout.write(`\n${title}\n${"".padEnd(width)}    p50 ms    p90 ms     n   p50 vs baseline\n`);
  for (const r of rows) {
    const [p50, base] = [pct(r.values, 50), r.base ? pct(r.base, 50) : Number.NaN];
    const ratio = r.base ? `+${(p50 - base).toFixed(1)} ms (${(p50 / base).toFixed(1)}×)` : "";
    process.stdout.write(
      `${r.what.padEnd(width)} ${num(p50)} ${num(pct(r.values, 90))} ${String(r.values.length).padStart(5)}   ${ratio}\n`,
    );
  }
}

function startChild(
  args: string[],
  env: NodeJS.ProcessEnv,
  ready: RegExp,
): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  const child = spawn(process.execPath, args, { env, stdio: ["ignore", "pipe", "pipe"] });
  // A crash of the bench must not leave a server or a worker running.
  process.once("exit", () => child.kill("SIGKILL"));
  let out = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args.join(" ")} did not start:\n${out}`)), 60_000);
    const check = () => {
      const match = ready.exec(out);
      if (!match) return;
      clearTimeout(timer);
      child.stdout!.off("data", check);
      resolve({ child, match });
    };
    const keep = (d: Buffer) => {
      if (out.length < 100_000) out += d;
    };
    child.stdout!.on("data", keep);
    child.stderr!.on("data", keep);
    child.stdout!.on("data", check);
    child.on("exit", (code, signal) => {
      const error = new Error(`${args.join(" ")} exited with ${code ?? signal}:\n${out}`);
      if (!stopped.has(child)) process.stderr.write(`${error.message}\n`);
      reject(error);
    });
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  stopped.add(child);
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  await Promise.race([exited, sleep(15_000)]);
  if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
}

/** CPU seconds of a process and the children it has waited for (git, bwrap…); ticks are 1/100 s. */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / 100;
}

/** A signed-in client of the running server. */
interface Api {
  // biome-ignore lint/suspicious/noExplicitAny: API answers are read loosely here; the tests check their shapes.
  call(method: string, url: string, body?: unknown): Promise<any>;
  /** Reads a job's SSE stream to its end, stamping each state event as it arrives (our clock). */
  follow(
    org: string,
    jobId: string,
    onState: (state: string, event: JobEvent, t: number) => void,
  ): Promise<void>;
}

function client(base: string, token: string): Api {
  const auth = { authorization: `Bearer ${token}` };
  return {
    async call(method, url, body) {
      const res = await fetch(`${base}/api${url}`, {
        method,
        headers: body === undefined ? auth : { ...auth, "content-type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${await res.text()}`);
      return res.json();
    },
    follow: (org, jobId, onState) =>
      new Promise((resolve, reject) => {
        const req = http.get(
          `${base}/api/orgs/${org}/jobs/${jobId}/events`,
          { headers: { ...auth, accept: "text/event-stream" }, agent: false },
          (res) => {
            if (res.statusCode !== 200) reject(new Error(`job stream: ${res.statusCode}`));
            let buffer = "";
            res.on("data", (chunk: Buffer) => {
              const t = now();
              buffer += chunk.toString();
              for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
                const data = /^data: (.*)$/m.exec(buffer.slice(0, end))?.[1];
                buffer = buffer.slice(end + 2);
                if (!data) continue;
                const e = JSON.parse(data) as JobEvent;
                if (e.event.type === "state") onState(e.event.state, e, t);
              }
            });
            res.on("end", resolve);
            res.on("error", reject);
          },
        );
        req.setTimeout(120_000, () => req.destroy(new Error(`job ${jobId} never ended`)));
        req.on("error", reject);
      }),
  };
}

/** Server stamps (ms since the epoch) of a finished job's state changes and worker steps. */
interface Stamps {
  job: Job;
  queued: number;
  dispatched: number;
  running: number;
  ended: number;
  steps: Record<string, number>;
}

async function stampsOf(api: Api, org: string, job: Job): Promise<Stamps> {
  const events = (await api.call("GET", `/orgs/${org}/jobs/${job.id}/events`)) as JobEvent[];
  const at = (e: JobEvent | undefined) => (e ? Date.parse(e.at) : Number.NaN);
  const state = (s: string) => at(events.find((e) => e.event.type === "state" && e.event.state === s));
  const steps: Record<string, number> = {};
  for (const e of events) if (e.event.type === "step") steps[e.event.name] ??= at(e);
  const ended = at(events.findLast((e) => e.event.type === "state" && FINAL.includes(e.event.state)));
  return {
    job,
    queued: state("queued"),
    dispatched: state("dispatched"),
    running: state("running"),
    ended,
    steps,
  };
}

async function untilFinal(api: Api, org: string, projectId: string, ids: string[]): Promise<Job[]> {
  const end = Date.now() + 300_000;
  const wanted = new Set(ids);
  while (Date.now() < end) {
    const list = (await api.call("GET", `/orgs/${org}/jobs?projectId=${projectId}&limit=200`)) as Job[];
    const mine = list.filter((j) => wanted.has(j.id));
    if (mine.length === ids.length && mine.every((j) => FINAL.includes(j.state))) {
      const failed = mine.filter((j) => j.state !== "completed");
      if (failed.length > 0) throw new Error(`jobs did not complete: ${JSON.stringify(failed[0])}`);
      return mine;
    }
    await sleep(100);
  }
  throw new Error("jobs never finished");
}

interface Level {
  n: number;
  wallMs: number;
  dispatchedPerS: number;
  completedPerS: number;
  wait: number[];
  run: number[];
  gap: number[];
  phases: Record<string, number[]>;
  cpuMsPerJob: { server: number; workers: number };
}

/** (a) JOBS jobs queued at once on N connected workers; the stamps come from the jobs' own events. */
async function throughput(
  api: Api,
  org: string,
  project: { id: string; slug: string },
  n: number,
  pids: { server: number; workers: number[] },
): Promise<Level> {
  const start = (what: string) =>
    api.call("POST", `/orgs/${org}/projects/${project.slug}/jobs`, { kind: "implement", instructions: what });
  const ids = (list: Job[]) => list.map((j) => j.id);
  // One job per worker first, so every worker has cloned, sandboxed and pushed once before timing.
  const warmUp = await Promise.all(Array.from({ length: n }, (_, i) => start(`Warm-up ${i}`)));
  await untilFinal(api, org, project.id, ids(warmUp));
  const cpu = async () => ({
    server: await cpuSeconds(pids.server),
    workers: (await Promise.all(pids.workers.map(cpuSeconds))).reduce((a, b) => a + b, 0),
  });
  const cpu0 = await cpu();
  const queued = await Promise.all(Array.from({ length: JOBS }, (_, i) => start(`Bench job ${i}`)));
  const done = await untilFinal(api, org, project.id, ids(queued));
  const cpu1 = await cpu();
  const all = await Promise.all(done.map((j) => stampsOf(api, org, j)));
  const first = Math.min(...all.map((s) => s.queued));
  const span = (pick: (s: Stamps) => number) => Math.max(...all.map(pick)) - first;
  // Per worker, in order: the job it finished → the next one it was handed (the dispatcher's round).
  const gap: number[] = [];
  const byWorker = Map.groupBy(all, (s) => s.job.workerId);
  for (const list of byWorker.values()) {
    list.sort((a, b) => a.dispatched - b.dispatched);
    for (let i = 1; i < list.length; i++) gap.push(list[i]!.dispatched - list[i - 1]!.ended);
  }
  const between = (from: string, to: string) =>
    all.map(
      (s) => (to === "end" ? s.ended : s.steps[to]!) - (from === "running" ? s.running : s.steps[from]!),
    );
  return {
    n,
    wallMs: span((s) => s.ended),
    dispatchedPerS: (JOBS / span((s) => s.dispatched)) * 1000,
    completedPerS: (JOBS / span((s) => s.ended)) * 1000,
    wait: all.map((s) => s.running - s.queued),
    run: all.map((s) => s.ended - s.running),
    gap,
    phases: {
      "running → clone step": between("running", "clone"),
      "clone + checkout (→ agent step)": between("clone", "agent"),
      "agent, one model call (→ commit step)": between("agent", "commit"),
      "commit (→ push step)": between("commit", "push"),
      "push + complete (→ completed)": between("push", "end"),
    },
    cpuMsPerJob: {
      server: ((cpu1.server - cpu0.server) / JOBS) * 1000,
      workers: ((cpu1.workers - cpu0.workers) / JOBS) * 1000,
    },
  };
}

/** (b) One task at a time, moved into In progress with every worker idle. */
async function latency(api: Api, org: string, project: string): Promise<Record<string, number[]>> {
  const base = `/orgs/${org}/projects/${project}`;
  const statuses = (await api.call("GET", `${base}/workflow`)).statuses as Array<{
    id: string;
    name: string;
  }>;
  const doing = statuses.find((s) => s.name === "In progress")!.id;
  // Only the implement job: with the review rule on, each task would queue a second job after it.
  const rules = (await api.call("GET", `${base}/automation/rules`)) as Array<{
    id: string;
    actions: Array<{ type: string; kind?: string }>;
  }>;
  for (const rule of rules.filter((r) => r.actions.some((a) => a.kind === "review")))
    await api.call("PATCH", `${base}/automation/rules/${rule.id}`, { enabled: false });
  const out: Record<string, number[]> = {};
  const add = (row: string, ms: number) => {
    out[row] ??= [];
    out[row].push(ms);
  };
  // Task 0 warms the path up and is not counted.
  for (let i = 0; i <= TASKS; i++) {
    const task = await api.call("POST", `${base}/tasks`, {
      title: `Bench task ${i}`,
      description: "Say done.",
      assignee: { type: "agent" },
    });
    const a0 = performance.now();
    await api.call("GET", `${base}/tasks/${task.id}`);
    const apiMs = performance.now() - a0;
    await sleep(100);
    const sent = now();
    await api.call("POST", `${base}/tasks/${task.id}/move`, { statusId: doing });
    const answered = now();
    const [job] = (await api.call("GET", `/orgs/${org}/jobs?taskId=${task.id}`)) as Job[];
    if (!job) throw new Error(`no job for task ${task.id}`);
    const idKnown = now();
    const seen: Record<string, { at: number; t: number }> = {};
    await api.follow(org, job.id, (state, e, t) => {
      seen[state] ??= { at: Date.parse(e.at), t };
    });
    if (!seen.completed || !seen.running)
      throw new Error(`task job ended ${JSON.stringify(Object.keys(seen))}`);
    // The worker's "ack → claim" round, so the next task finds it idle.
    await sleep(200);
    if (i === 0) continue;
    add("api", apiMs);
    add("answered", answered - sent);
    add("queued", seen.queued!.at - sent);
    add("dispatched", seen.dispatched!.at - seen.queued!.at);
    add("running", seen.running.at - seen.dispatched!.at);
    add("sentToRunning", seen.running.at - sent);
    add("idKnown", idKnown - answered);
    add("seen", seen.running.t - answered);
  }
  return out;
}

/**
 * The baseline: the same state changes on the same database straight through JobQueue, in this process,
 * N loops at once for each level — no HTTP, sockets, git, sandbox or model.
 */
async function rawQueue(
  config: ReturnType<typeof loadConfig>,
  orgId: string,
  projectId: string,
  levels: number[],
): Promise<Map<number, { perS: number; toRunning: number[] }>> {
  const database = await openDatabase({
    databaseUrl: config.databaseUrl,
    pgliteDir: path.join(config.dataDir, "db"),
  });
  const queue = new JobQueue(database, config.jobs);
  const ids = Array.from({ length: Math.max(...levels) }, () => randomUUID());
  const out = new Map<number, { perS: number; toRunning: number[] }>();
  try {
    await database.db
      .insert(workers)
      .values(ids.map((id, i) => ({ id, orgId, name: `bench-raw-${i}`, version: "bench", concurrency: 1 })));
    const round = async (workerId: string, record: number[] | undefined) => {
      const scope = { workerId, orgId };
      const t0 = performance.now();
      await queue.enqueue({
        orgId,
        projectId,
        taskId: null,
        kind: "implement",
        instructions: "raw",
        requestedBy: null,
      });
      let claimed = (await queue.claim(scope, 1))[0];
      // Another loop may have taken the job this one queued; one queued by someone is there.
      while (!claimed) claimed = (await queue.claim(scope, 1))[0];
      await queue.heartbeat(scope, [claimed.job.id]);
      record?.push(performance.now() - t0);
      await queue.complete(scope, claimed.job.id, claimed.attempt, {
        summary: "done",
        branch: null,
        commit: null,
      });
    };
    for (let i = 0; i < 20; i++) await round(ids[0]!, undefined);
    for (const n of levels) {
      const toRunning: number[] = [];
      const each = Math.ceil(QUEUE_ROUNDS / n);
      const t0 = performance.now();
      await Promise.all(
        ids.slice(0, n).map(async (id) => {
          for (let i = 0; i < each; i++) await round(id, toRunning);
        }),
      );
      out.set(n, { perS: ((each * n) / (performance.now() - t0)) * 1000, toRunning });
    }
  } finally {
    // On a PostgreSQL of the user's, leave only what the server itself made.
    await database.db.delete(jobs).where(inArray(jobs.workerId, ids));
    await database.db.delete(workers).where(inArray(workers.id, ids));
    await database.close();
  }
  return out;
}

function runGit(args: string[], env: NodeJS.ProcessEnv = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("git", ["-c", "safe.directory=*", ...args], {
      env: { ...process.env, GIT_TERMINAL_PROMPT: "0", ...env },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let err = "";
    child.stderr.on("data", (d) => (err += d));
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`git ${args[0]}: ${err}`))));
  });
}

/**
 * The floor for git over smart HTTP on this machine: the host's `git http-backend` as a CGI program behind a
 * bare Node HTTP server (no auth, no sandbox, no limits), one process per request like any CGI server.
 */
async function plainSmartHttp(repoDir: string): Promise<{ url: string; close: () => void }> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://bench");
    const child = spawn("git", ["-c", "safe.directory=*", "http-backend"], {
      env: {
        ...process.env,
        GIT_PROJECT_ROOT: repoDir,
        GIT_HTTP_EXPORT_ALL: "1",
        REQUEST_METHOD: req.method ?? "GET",
        PATH_INFO: url.pathname.replace(/^\/repo/, "/.git"),
        QUERY_STRING: url.search.slice(1),
        CONTENT_TYPE: String(req.headers["content-type"] ?? ""),
        ...(req.headers["git-protocol"] ? { GIT_PROTOCOL: String(req.headers["git-protocol"]) } : {}),
      },
      stdio: ["pipe", "pipe", "ignore"],
    });
    req.pipe(child.stdin);
    let head: Buffer | undefined = Buffer.alloc(0);
    child.stdout.on("data", (chunk: Buffer) => {
      if (!head) return void res.write(chunk);
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf("\r\n\r\n");
      if (end === -1) return;
      for (const line of head.subarray(0, end).toString().split("\r\n")) {
        const colon = line.indexOf(":");
        const [name, value] = [line.slice(0, colon), line.slice(colon + 1).trim()];
        if (name.toLowerCase() === "status") res.statusCode = Number(value.slice(0, 3));
        else res.setHeader(name, value);
      }
      res.write(head.subarray(end + 4));
      head = undefined;
    });
    child.stdout.on("end", () => res.end());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/repo`, close: () => server.close() };
}

/**
 * (c) What a job's clone and ls-remote cost through Kiln (HTTP, auth, one sandbox launch per request) against
 * the same git operations on the repository's directory (file://: upload-pack over a pipe).
 */
async function gitHop(
  url: string,
  token: string,
  projectDir: string,
  repo: string,
  into: string,
): Promise<Record<string, number[]>> {
  await mkdir(into);
  // As the worker sends its job token: in the environment, never in argv.
  const auth = {
    GIT_CONFIG_COUNT: "1",
    GIT_CONFIG_KEY_0: "http.extraHeader",
    GIT_CONFIG_VALUE_0: `Authorization: Bearer ${token}`,
  };
  const remote = `${url}/git/${repo}.git`;
  const local = `file://${projectDir}`;
  // The repository belongs to the project's sandbox uid; git's local transport drops `-c` for upload-pack.
  const uploadPack = "--upload-pack=git -c safe.directory=* upload-pack";
  const out: Record<string, number[]> = {
    localClone: [],
    plainClone: [],
    clone: [],
    localLsRemote: [],
    plainLsRemote: [],
    lsRemote: [],
  };
  const plain = await plainSmartHttp(projectDir);
  let n = 0;
  // Run 0 warms up and is not counted; the sides alternate so drift hits all.
  for (let i = 0; i <= GIT_RUNS; i++) {
    for (const [row, args, env] of [
      ["localClone", ["clone", "--quiet", uploadPack, local, path.join(into, `c${n++}`)], {}],
      ["plainClone", ["clone", "--quiet", plain.url, path.join(into, `c${n++}`)], {}],
      ["clone", ["clone", "--quiet", remote, path.join(into, `c${n++}`)], auth],
      ["localLsRemote", ["ls-remote", "--heads", uploadPack, local, "main"], {}],
      ["plainLsRemote", ["ls-remote", "--heads", plain.url, "main"], {}],
      ["lsRemote", ["ls-remote", "--heads", remote, "main"], auth],
    ] as const) {
      const t0 = performance.now();
      await runGit([...args], env);
      if (i > 0) out[row]!.push(performance.now() - t0);
    }
  }
  plain.close();
  return out;
}

async function main(): Promise<void> {
  const t0 = performance.now();
  process.stdout.write(`load average at start: ${load()} (${os.cpus().length} CPUs)\n`);
  const work = await mkdtemp(path.join(os.tmpdir(), "kiln-bench-jobs-"));
  const children: ChildProcess[] = [];
  const fake = await startFakeProvider({ responder: () => ({ text: "Done: nothing to change." }) });
  try {
    const port = await freePort();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      KILN_DATA_DIR: path.join(work, "data"),
      // The sandbox driver's run directory and git's scratch files go with the bench's temp dir.
      TMPDIR: path.join(work, "tmp"),
      PORT: String(port),
      HOST: "127.0.0.1",
      // Workers clone and call the model proxy at the URLs the server hands out.
      KILN_PUBLIC_URL: `http://127.0.0.1:${port}`,
      LOG_LEVEL: "warn",
      KILN_EMBEDDED_WORKERS: "0",
      KILN_TEMPLATE_CACHE_DIR: CACHE_DIR,
      OPENAI_BASE_URL: `${fake.url}/v1`,
      OPENAI_API_KEY: "fake-key",
      KILN_MODEL: "openai/fake-model",
      KILN_LLM_RATE_LIMIT_PER_MINUTE: "100000",
    };
    delete env.DATABASE_URL;
    delete env.KILN_WORKER_TOKEN;
    if (process.env.KILN_BENCH_DATABASE_URL) env.DATABASE_URL = process.env.KILN_BENCH_DATABASE_URL;
    // Traversable (not listable) for the sandbox's unprivileged user, as the OS temp dir is.
    await mkdir(env.TMPDIR!, { mode: 0o711 });
    await chmod(work, 0o711);
    const config = loadConfig(env);

    // `kiln start` installs every template's dependencies in the background; done first, it finds them.
    const c0 = performance.now();
    await new TemplateService(
      await TemplateRegistry.load(config.templatesDir),
      CACHE_DIR,
      undefined,
      // The entry the server's sandbox driver uses (its compile cache is named for the sandbox's uid).
      { guestUid: SANDBOX_UID },
    ).warmTemplateCaches();
    process.stdout.write(`template dependency caches ready in ${secondsSince(c0)}\n`);

    const s0 = performance.now();
    const server = await startChild([CLI, "start"], env, /running at (http:\/\/\S+)/);
    children.push(server.child);
    const url = server.match[1]!;
    process.stdout.write(
      `kiln start (${env.DATABASE_URL ? "PostgreSQL" : "embedded PGlite"}, no embedded worker) ready in ${secondsSince(s0)}\n`,
    );
    const signup = await fetch(`${url}/api/auth/signup`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        email: `bench-${randomBytes(4).toString("hex")}@example.com`,
        password: "correct horse battery",
        name: "Bench",
      }),
    });
    if (signup.status !== 201) throw new Error(`signup: ${signup.status} ${await signup.text()}`);
    const session = ((await signup.json()) as { accessToken: string }).accessToken;
    const api = client(url, session);
    const org = await api.call("POST", "/orgs", {
      name: "Bench",
      slug: `bench-${randomBytes(3).toString("hex")}`,
    });
    const pool = await api.call("POST", `/orgs/${org.slug}/projects`, {
      name: "Job pool",
      template: "static",
    });
    const board = await api.call("POST", `/orgs/${org.slug}/projects`, { name: "Board", template: "static" });
    const { token } = await api.call("POST", `/orgs/${org.slug}/workers/tokens`, { name: "bench" });

    const workerPids: number[] = [];
    const addWorker = async () => {
      const i = workerPids.length;
      const dir = path.join(work, `worker-${i}`);
      await mkdir(dir);
      const w = await startChild(
        [CLI, "worker", "--server", url, "--concurrency", "1", "--work-dir", dir, "--name", `bench-${i}`],
        { ...env, KILN_WORKER_TOKEN: token },
        /kiln worker \S+ connected/,
      );
      children.push(w.child);
      workerPids.push(w.child.pid!);
    };

    const levels: Level[] = [];
    for (const n of PARTS.has("a") ? LEVELS : []) {
      while (workerPids.length < n) await addWorker();
      // Fewer workers than before: stop the extra ones (their jobs are all finished).
      while (workerPids.length > n) {
        const pid = workerPids.pop()!;
        await stopChild(children.find((c) => c.pid === pid)!);
      }
      const l0 = performance.now();
      levels.push(
        await throughput(api, org.slug, pool, n, { server: server.child.pid!, workers: workerPids }),
      );
      process.stdout.write(
        `(a) N=${n}: ${JOBS} jobs in ${(levels.at(-1)!.wallMs / 1000).toFixed(1)} s (part took ${secondsSince(l0)})\n`,
      );
    }
    const b0 = performance.now();
    if (PARTS.has("b") && workerPids.length === 0) await addWorker();
    const lat = PARTS.has("b") ? await latency(api, org.slug, board.slug) : undefined;
    const idle = workerPids.length;
    if (lat)
      process.stdout.write(`(b) ${TASKS} tasks with ${idle} idle worker(s) took ${secondsSince(b0)}\n`);
    const hop = PARTS.has("c")
      ? await gitHop(
          url,
          session,
          new ProjectStorage(config.dataDir).projectDir(org.id, board.id),
          `${org.slug}/${board.slug}`,
          path.join(work, "clones"),
        )
      : undefined;

    for (const child of children.splice(0).reverse()) await stopChild(child);
    const raw =
      PARTS.has("a") || PARTS.has("b")
        ? await rawQueue(config, org.id, pool.id, [...new Set([...LEVELS, 1])])
        : undefined;

    if (raw && levels.length > 0)
      process.stdout.write(
        `\n(a) throughput: ${JOBS} implement jobs queued at once, one scripted model reply each (no tools); baseline: raw JobQueue round trips in-process on the same database\n` +
          "         dispatched   completed   raw queue  completed   wait p50  run p50  gap p50   server CPU  workers CPU\n" +
          "   N      jobs/s       jobs/s      jobs/s   vs raw        ms       ms       ms      ms/job       ms/job\n",
      );
    for (const l of levels) {
      const r = raw!.get(l.n)!;
      process.stdout.write(
        `${String(l.n).padStart(4)} ${num(l.dispatchedPerS, 11)} ${num(l.completedPerS, 11)} ${num(r.perS, 11)} ${`${(l.completedPerS / r.perS).toFixed(4)}×`.padStart(10)} ${num(pct(l.wait, 50), 10)} ${num(pct(l.run, 50), 8)} ${num(pct(l.gap, 50), 8)} ${num(l.cpuMsPerJob.server, 12)} ${num(l.cpuMsPerJob.workers, 12)}\n`,
      );
    }
    if (levels.length > 0)
      process.stdout.write(
        "wait = queued → running; run = running → completed; gap = a worker's job completed → its next job dispatched\n",
      );
    for (const l of levels) {
      table(`(a) N=${l.n}: where a job's run goes (server stamps of the worker's step events)`, [
        { what: "queued → running", values: l.wait },
        { what: "running → completed", values: l.run },
        ...Object.entries(l.phases).map(([what, values]) => ({ what: `  ${what}`, values })),
        { what: "completed → the worker's next job dispatched", values: l.gap },
      ]);
    }
    const rawOne = raw?.get(1)?.toRunning ?? [];
    if (lat)
      table(
        `(b) latency, ${TASKS} tasks moved into "In progress" one at a time, ${idle} idle worker(s); client clock for "client", server stamps (ms resolution) otherwise`,
        [
          { what: "baseline: one API round trip (GET task)", values: lat.api! },
          { what: "baseline: raw queue enqueue → claim → running", values: rawOne },
          { what: "POST …/move → answered (client)", values: lat.answered!, base: lat.api! },
          { what: "move sent → job queued", values: lat.queued! },
          { what: "job queued → dispatched", values: lat.dispatched! },
          { what: "job dispatched → running", values: lat.running! },
          { what: "move sent → job running (server)", values: lat.sentToRunning!, base: rawOne },
          { what: "move answered → job id known (GET jobs?taskId)", values: lat.idKnown! },
          { what: "move answered → client sees running (SSE)", values: lat.seen!, base: lat.api! },
        ],
      );
    if (hop)
      table(
        `(c) the git hop every job makes (clone, ls-remote and push: git http-backend forked in the project's warm git sandbox on the server), ${GIT_RUNS} runs each`,
        [
          { what: "baseline: git clone file:// (host, no HTTP, no sandbox)", values: hop.localClone! },
          {
            what: "floor: git clone over plain smart HTTP (host http-backend)",
            values: hop.plainClone!,
            base: hop.localClone!,
          },
          { what: "git clone over Kiln's smart HTTP", values: hop.clone!, base: hop.localClone! },
          { what: "baseline: git ls-remote file://", values: hop.localLsRemote! },
          {
            what: "floor: git ls-remote over plain smart HTTP",
            values: hop.plainLsRemote!,
            base: hop.localLsRemote!,
          },
          { what: "git ls-remote over Kiln's smart HTTP", values: hop.lsRemote!, base: hop.localLsRemote! },
        ],
      );
  } finally {
    for (const child of children.reverse()) await stopChild(child);
    await fake.close();
    await rm(work, { recursive: true, force: true, maxRetries: 5 }).catch((err) => {
      process.stderr.write(`could not remove ${work}: ${(err as Error).message}\n`);
    });
    process.stdout.write(`\nload average at end: ${load()}; whole run ${secondsSince(t0)}\n`);
  }
}

await main();
