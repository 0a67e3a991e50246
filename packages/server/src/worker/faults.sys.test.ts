import { execFileSync } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {
  type ConversationMessage,
  type FakeProvider,
  type RecordedRequest,
  type Reply,
  readConversation,
  startFakeProvider,
} from "@kiln/fake-provider";
import type { Job, JobEvent, TaskActivity, WorkerServerMessage } from "@kiln/protocol";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../testing/free-port.ts";
import { uniqueEmail, uniqueSlug } from "../testing/harness.ts";
import {
  type ApiClient,
  freshDatabase,
  type ServerProcess,
  signUp,
  startServerProcess,
  startWorkerProcess,
  type WorkerProcess,
} from "../testing/processes.ts";
import { type SeenMessage, startTcpProxy, type TcpProxy } from "../testing/tcp-proxy.ts";

/**
 * The fault tests of issue #6, with real processes: `kiln start` on PostgreSQL and `kiln worker`s whose
 * sockets reach it through a TCP proxy (their network link, which a test can cut), on short leases. A
 * worker killed with -9 mid-job, a connection lost while the final word is on the wire, a worker cut off
 * for longer than its lease, a server killed or stopped during a job: every job ends completed exactly
 * once — one completion, one push, one move to Review with one summary, one review job — and none is left
 * dispatched or running.
 */

const LEASE_SECONDS = 5;
/** What a worker logs when its connection goes, and when the server refuses a report as stale. */
const LOST = /connection to the server lost/;
const STALE = /no longer holds the job/;
/** Settling: a lease running out, the sweep, a retry, another worker's whole attempt. */
const SETTLE_MS = 60_000;

let db: Awaited<ReturnType<typeof freshDatabase>>;
let fake: FakeProvider;
let dataDir: string;
let workRoot: string;
let port: number;
let proxy: TcpProxy;
let server: ServerProcess;
let api: ApiClient;
let org: { slug: string; id: string };
let workerToken: string;
const started: Array<{ worker: WorkerProcess; direct: boolean }> = [];
/** Every worker socket message that went through the proxy, both ways. */
const wire: SeenMessage[] = [];

// ---- the scripted model ----

type Script = (messages: ConversationMessage[]) => Reply;
/** Scripts by marker: the task's description carries one, and so every request of its jobs. */
const scripts = new Map<string, Script>();

/**
 * An agent that writes one file and sums up. With `hold`, the first attempt first runs that command in the
 * sandbox (the test strikes while it runs); later attempts go straight to the file.
 */
function writesFile(file: string, content: string, hold?: string): Script {
  let fresh = 0;
  return (messages) => {
    const calls = messages.flatMap((m) => m.toolCalls);
    if (calls.some((c) => c.name === "write_file")) return { text: `Wrote ${file}.` };
    if (calls.length === 0 && hold && ++fresh === 1) {
      return { toolCalls: [{ name: "bash", arguments: { command: hold, timeout_seconds: 600 } }] };
    }
    return { toolCalls: [{ name: "write_file", arguments: { path: file, content } }] };
  };
}

function respond(request: RecordedRequest): Reply {
  const messages = readConversation(request);
  const brief = messages.find((m) => m.role === "user")?.text ?? "";
  const system = messages.find((m) => m.role === "system")?.text ?? "";
  if (system.includes("You are reviewing")) return { text: "Reviewed: looks right." };
  for (const [marker, script] of scripts) if (brief.includes(marker)) return script(messages);
  return { text: "Nothing scripted for this request." };
}

// ---- processes ----

async function startServer(): Promise<ServerProcess> {
  server = await startServerProcess({
    dataDir,
    port,
    env: {
      DATABASE_URL: db.url,
      KILN_EMBEDDED_WORKERS: "0",
      // Where workers clone, push and call the model: straight to the server, so cutting one worker's
      // link (the proxy) leaves the others alone.
      KILN_PUBLIC_URL: `http://127.0.0.1:${port}`,
      OPENAI_BASE_URL: `${fake.url}/v1`,
      OPENAI_API_KEY: "fake-key",
      KILN_MODEL: "openai/fake-model",
      KILN_LLM_RETRY_BASE_MS: "10",
      KILN_JOB_LEASE_SECONDS: String(LEASE_SECONDS),
      KILN_JOB_SWEEP_SECONDS: "1",
      KILN_JOB_RETRY_BASE_SECONDS: "0",
      KILN_JOB_MAX_ATTEMPTS: "3",
    },
  });
  return server;
}

/** A `kiln worker` whose socket goes through the proxy, or with `direct`, straight to the server. */
async function startWorker(name: string, options: { direct?: boolean } = {}): Promise<WorkerProcess> {
  const workDir = await mkdtemp(path.join(workRoot, `${name}-`));
  const worker = await startWorkerProcess({
    server: options.direct ? `http://127.0.0.1:${port}` : proxy.url,
    token: workerToken,
    workDir,
    name,
  });
  started.push({ worker, direct: options.direct ?? false });
  return worker;
}

const alive = (w: WorkerProcess) => w.child.exitCode === null && w.child.signalCode === null;

/**
 * The worker behind the proxy that the tests share (after the kill -9, the survivor): one process lives
 * through every fault that follows. Started if there is none.
 */
async function linkedWorker(): Promise<WorkerProcess> {
  return started.find((s) => !s.direct && alive(s.worker))?.worker ?? startWorker("linked");
}

/** After each test one worker behind the proxy stays for the next; any other stops (SIGTERM). */
async function trimWorkers(): Promise<void> {
  const keep = started.find((s) => !s.direct && alive(s.worker));
  for (const s of started.splice(0)) if (s !== keep) await s.worker.stop("SIGTERM");
  if (keep) started.push(keep);
}

beforeAll(async () => {
  db = await freshDatabase();
  fake = await startFakeProvider({ responder: respond });
  dataDir = await mkdtemp(path.join(os.tmpdir(), "kiln-sys-faults-"));
  workRoot = await mkdtemp(path.join(os.tmpdir(), "kiln-sys-faults-workers-"));
  port = await freePort();
  proxy = await startTcpProxy({ target: port });
  proxy.onMessage((m) => wire.push(m));
  await startServer();
  api = await signUp(server.url, uniqueEmail("faults"));
  const slug = uniqueSlug("faults");
  const created = await api.call("POST", "/api/orgs", { name: "Faults", slug });
  expect(created.status).toBe(201);
  org = { slug, id: created.json.id };
  const token = await api.call("POST", `/api/orgs/${slug}/workers/tokens`, { name: "fault workers" });
  expect(token.status).toBe(201);
  workerToken = token.json.token;
}, 120_000);

afterEach(trimWorkers);

afterAll(async () => {
  for (const { worker } of started) await worker.stop("SIGKILL");
  await server?.stop("SIGTERM");
  await proxy?.close();
  await fake?.close();
  await db?.drop();
  for (const dir of [dataDir, workRoot]) if (dir) await rm(dir, { recursive: true, force: true });
});

// ---- the board ----

interface Project {
  id: string;
  slug: string;
  base: string;
}

async function newProject(name: string): Promise<Project> {
  const res = await api.call("POST", `/api/orgs/${org.slug}/projects`, { name, template: "static" });
  expect(res.status).toBe(201);
  return { id: res.json.id, slug: res.json.slug, base: `/api/orgs/${org.slug}/projects/${res.json.slug}` };
}

async function statusIds(project: Project): Promise<Record<string, string>> {
  const res = await api.call("GET", `${project.base}/workflow`);
  return Object.fromEntries(
    (res.json.statuses as Array<{ id: string; name: string }>).map((s) => [s.name, s.id]),
  );
}

/** A task for the agent, moved to In progress: the default rules start its implement job. */
async function startTask(project: Project, marker: string, title: string): Promise<string> {
  const named = await statusIds(project);
  const task = await api.call("POST", `${project.base}/tasks`, {
    title,
    description: `${title} (${marker})`,
    assignee: { type: "agent" },
  });
  expect(task.status).toBe(201);
  for (const status of ["To do", "In progress"]) {
    const moved = await api.call("POST", `${project.base}/tasks/${task.json.id}/move`, {
      statusId: named[status],
    });
    expect(moved.status).toBe(200);
  }
  return task.json.id;
}

const FINAL = ["completed", "failed", "cancelled"];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = SETTLE_MS): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

async function jobsOf(taskId: string): Promise<Job[]> {
  const res = await api.call("GET", `/api/orgs/${org.slug}/jobs?taskId=${taskId}`);
  expect(res.status).toBe(200);
  return res.json;
}

async function implementJob(taskId: string, ready: (job: Job) => boolean): Promise<Job> {
  return until(`the implement job of ${taskId}`, async () =>
    (await jobsOf(taskId)).find((j) => j.kind === "implement" && ready(j)),
  );
}

async function eventsOf(jobId: string): Promise<JobEvent[]> {
  const res = await api.call("GET", `/api/orgs/${org.slug}/jobs/${jobId}/events`);
  expect(res.status).toBe(200);
  return res.json;
}

/** The job's state changes in order, as `state@attempt` (with the failure code of an attempt that ended). */
async function stateHistory(jobId: string): Promise<string[]> {
  return (await eventsOf(jobId)).flatMap((e) =>
    e.event.type === "state"
      ? [`${e.event.state}@${e.attempt}${e.event.failure ? `:${e.event.failure.code}` : ""}`]
      : [],
  );
}

/**
 * Waits until no job of the org is queued, dispatched or running — nothing stuck, nothing still to do —
 * and returns them all. Fails naming the jobs that never got there.
 */
async function untilAllSettled(ms = SETTLE_MS): Promise<Job[]> {
  let last: Job[] = [];
  try {
    return await until(
      "every job to end",
      async () => {
        last = (await api.call("GET", `/api/orgs/${org.slug}/jobs?limit=200`)).json;
        return last.every((j) => FINAL.includes(j.state)) ? last : undefined;
      },
      ms,
    );
  } catch (err) {
    const stuck = last.filter((j) => !FINAL.includes(j.state));
    throw new Error(`${(err as Error).message}: ${JSON.stringify(stuck, null, 2)}\n${server.output()}`);
  }
}

/** The review the move to Review starts, finished; then every job of the org is over. */
async function untilReviewed(taskId: string): Promise<Job[]> {
  await until(`the review of ${taskId}`, async () =>
    (await jobsOf(taskId)).some((j) => j.kind === "review" && FINAL.includes(j.state)) ? true : undefined,
  );
  return untilAllSettled();
}

/**
 * What the task shows once its jobs are over: where it is, how often it moved into Review, the agent's
 * summaries, and its jobs.
 */
async function taskOutcome(project: Project, taskId: string) {
  const named = await statusIds(project);
  const task = (await api.call("GET", `${project.base}/tasks/${taskId}`)).json;
  const activity = (await api.call("GET", `${project.base}/tasks/${taskId}/activity`)).json as TaskActivity[];
  const comments = (await api.call("GET", `${project.base}/tasks/${taskId}/comments`)).json as Array<{
    body: string;
  }>;
  return {
    inReview: task.statusId === named.Review,
    movesToReview: activity.filter(
      (a) => a.kind === "moved" && (a.to as { id?: string } | null)?.id === named.Review,
    ).length,
    summaries: comments.filter((c) => c.body.startsWith("**Implementation done**")).map((c) => c.body),
    reviews: comments.filter((c) => c.body.startsWith("**Review**")).length,
    jobs: (await jobsOf(taskId)).map((j) => `${j.kind}:${j.state}`).sort(),
  };
}

/**
 * The task's work landed once: the agent's file on its branch in one commit (the job's), the task in Review
 * after one move there, one summary comment, and one review job — and every job of the org is over.
 */
async function expectDoneOnce(project: Project, taskId: string, job: Job, file: string, content: string) {
  await untilReviewed(taskId);
  const summary = `Wrote ${file}.`;
  expect(branchCommits(project, taskId)).toEqual([`${job.result!.commit} ${summary}`]);
  expect(fileOnBranch(project, taskId, file)).toBe(content);
  expect(await taskOutcome(project, taskId)).toEqual({
    inReview: true,
    movesToReview: 1,
    summaries: [`**Implementation done**\n\n${summary}\n\nBranch: \`kiln/task-${taskId}\``],
    reviews: 1,
    jobs: ["implement:completed", "review:completed"],
  });
}

function git(dir: string, ...args: string[]): string {
  return execFileSync("git", ["-c", "safe.directory=*", "-C", dir, ...args], { encoding: "utf8" }).trim();
}

/** The commits on the task's branch that main does not have, newest first, as `id subject`. */
function branchCommits(project: Project, taskId: string): string[] {
  const dir = path.join(dataDir, "orgs", org.id, "projects", project.id);
  return git(dir, "log", "--format=%H %s", `main..kiln/task-${taskId}`).split("\n").filter(Boolean);
}

function fileOnBranch(project: Project, taskId: string, file: string): string {
  const dir = path.join(dataDir, "orgs", org.id, "projects", project.id);
  return git(dir, "show", `kiln/task-${taskId}:${file}`);
}

/** Pids of processes on this host whose command line contains `needle` (sandboxed ones included). */
async function processesRunning(needle: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, "utf8").catch(() => "");
    if (cmdline.replaceAll("\u0000", " ").includes(needle)) pids.push(Number(entry));
  }
  return pids;
}

/** How often `p` has printed a line matching `re` so far. */
function printed(p: WorkerProcess, re: RegExp): number {
  return p.output().match(new RegExp(re.source, "g"))?.length ?? 0;
}

/** Waits until `p` prints a line matching `re` once more than the `seen` times it had. */
async function untilPrintedAgain(p: WorkerProcess, re: RegExp, seen: number): Promise<void> {
  await until(`${re} from the worker`, async () => (printed(p, re) > seen ? true : undefined));
}

/** Worker socket messages of one type about one job, as the proxy saw them. */
function messages(from: "client" | "server", type: string, jobId: string) {
  return wire
    .filter((m) => m.from === from)
    .map((m) => JSON.parse(m.text) as { type: string; jobId?: string; ref?: { jobId?: string } })
    .filter((m) => m.type === type && (m.jobId ?? m.ref?.jobId) === jobId);
}

/** Errors the server answered worker messages with, while this test ran. */
function serverErrors(since: number): Array<Extract<WorkerServerMessage, { type: "error" }>> {
  return wire
    .slice(since)
    .filter((m) => m.from === "server")
    .map((m) => JSON.parse(m.text) as WorkerServerMessage)
    .filter((m) => m.type === "error");
}

// ---- the faults ----

describe("fault tolerance of jobs (real processes, PostgreSQL)", () => {
  it("kill -9 of the worker mid-job: the job is re-queued after the lease and completed once by the other", async () => {
    const marker = "KILL9-4d1";
    const hold = "sleep 3131";
    scripts.set(marker, writesFile("killed.txt", "written after a kill -9", hold));
    const [a, b] = await Promise.all([startWorker("a"), startWorker("b")]);
    const project = await newProject("Kill nine");
    const taskId = await startTask(project, marker, "Write killed.txt");

    // The first attempt is in the sandbox, running the command the model asked for.
    const first = await implementJob(taskId, (j) => j.state === "running");
    await until("the sandboxed command", async () =>
      (await processesRunning(hold)).length ? true : undefined,
    );
    const victim = [a, b].find((w) => w.workerId === first.workerId)!;
    const survivor = [a, b].find((w) => w !== victim)!;
    expect(victim, `job held by ${first.workerId}`).toBeDefined();
    await victim.stop("SIGKILL");

    const done = await implementJob(taskId, (j) => FINAL.includes(j.state));
    expect(done).toMatchObject({
      state: "completed",
      attempt: 2,
      workerId: survivor.workerId,
      failure: null,
    });
    // The killed attempt ended when its lease ran out, and the retry ran on the other worker.
    expect(await stateHistory(done.id)).toEqual([
      "queued@0",
      "dispatched@1",
      "running@1",
      "queued@1:worker_lost",
      "dispatched@2",
      "running@2",
      "completed@2",
    ]);
    const attempts = (await eventsOf(done.id)).filter(
      (e) => e.event.type === "state" && e.event.state === "dispatched",
    );
    expect(attempts.map((e) => (e.event as { workerId: string }).workerId)).toEqual([
      victim.workerId,
      survivor.workerId,
    ]);

    await expectDoneOnce(project, taskId, done, "killed.txt", "written after a kill -9");
    // The sandbox died with its worker: nothing of the killed attempt runs on.
    await until("the killed worker's sandbox to go", async () =>
      (await processesRunning(hold)).length === 0 ? true : undefined,
    );
  });

  it.each([
    { deliver: true, lost: "its ack", marker: "ACK-LOST-5e2", file: "ack-lost.txt" },
    { deliver: false, lost: "the message", marker: "COMPLETE-LOST-9b7", file: "complete-lost.txt" },
  ])(
    "connection lost as the worker sends complete, losing $lost: resent after the reconnect, applied once",
    async ({ deliver, marker, file }) => {
      scripts.set(marker, writesFile(file, `${marker} survived`));
      const worker = await linkedWorker();
      const project = await newProject(`Lost ${file}`);
      const from = wire.length;
      const drops = printed(worker, LOST);
      // The network goes the moment the final word is on the wire: with it (the server has it, the
      // worker never sees the answer) or before it (the server never gets it); reconnects are refused.
      const cut = proxy.cutAtClientMessage({
        match: (text) => JSON.parse(text).type === "complete",
        deliver,
        refuse: true,
      });
      const taskId = await startTask(project, marker, `Write ${file}`);
      const jobId = JSON.parse(await cut).jobId as string;
      await untilPrintedAgain(worker, LOST, drops);
      await sleep(1000);
      await proxy.restore();

      const done = await implementJob(taskId, (j) => FINAL.includes(j.state));
      expect(done).toMatchObject({ id: jobId, state: "completed", attempt: 1, workerId: worker.workerId });
      expect(await stateHistory(jobId)).toEqual(["queued@0", "dispatched@1", "running@1", "completed@1"]);
      // Sent twice, the second time on the new connection, and answered once: the job is completed.
      await until("the answer", async () => (messages("server", "ack", jobId).length ? true : undefined));
      const sent = messages("client", "complete", jobId);
      expect(sent).toHaveLength(2);
      expect(sent[1]).toEqual(sent[0]);
      expect(messages("server", "ack", jobId)).toEqual([
        { type: "ack", of: "complete", jobId, attempt: 1, state: "completed" },
      ]);
      expect(serverErrors(from)).toEqual([]);
      await expectDoneOnce(project, taskId, done, file, `${marker} survived`);
    },
  );

  it("connection lost mid-job: what the job logs meanwhile reaches the board after the reconnect, in order", async () => {
    const marker = "LOG-DURING-CUT-4e1";
    scripts.set(marker, writesFile("logged.txt", "logged through a cut"));
    const worker = await linkedWorker();
    const project = await newProject("Logged cut");
    const from = wire.length;
    // The link goes as the agent's first tool call is reported; the rest of the job runs while it is down.
    const cut = proxy.cutAtClientMessage({
      match: (text) => {
        const m = JSON.parse(text);
        return m.type === "job-event" && m.event.type === "agent" && m.event.event.type === "tool-call-start";
      },
      deliver: true,
      refuse: true,
    });
    const taskId = await startTask(project, marker, "Write logged.txt");
    const jobId = JSON.parse(await cut).jobId as string;
    // The push goes straight to the server: once the branch is there, the job has nothing left but its report.
    await until("the pushed branch", async () => {
      try {
        return branchCommits(project, taskId).length > 0 ? true : undefined;
      } catch {
        return undefined; // no branch yet
      }
    });
    await sleep(300);
    await proxy.restore();

    const done = await implementJob(taskId, (j) => FINAL.includes(j.state));
    expect(done).toMatchObject({ id: jobId, state: "completed", attempt: 1, workerId: worker.workerId });
    const steps = (await eventsOf(jobId)).flatMap((e) =>
      e.event.type === "step" ? [`${e.event.name}:${e.event.status}`] : [],
    );
    // The commit and the push were made while the link was down (the job had finished before it came back).
    expect(steps).toEqual(["clone:started", "agent:started", "commit:started", "push:started"]);
    const sent = messages("client", "job-event", jobId);
    const stored = (await eventsOf(jobId)).filter(
      (e) => !["state", "cancel-requested"].includes(e.event.type),
    );
    expect(stored.map((e) => e.event)).toEqual(sent.map((m) => (m as unknown as { event: unknown }).event));
    expect(stored.some((e) => e.event.type === "log" && /were lost/.test(e.event.message))).toBe(false);
    expect(serverErrors(from)).toEqual([]);
    await expectDoneOnce(project, taskId, done, "logged.txt", "logged through a cut");
  });

  it("a final word lost for longer than the lease: another worker redoes the job; the late one is refused once and forgotten", async () => {
    const marker = "LATE-COMPLETE-6d0";
    scripts.set(marker, writesFile("late.txt", "written twice, completed once"));
    const late = await linkedWorker();
    const project = await newProject("Late complete");
    const from = wire.length;
    const refusals = printed(late, STALE);
    const cut = proxy.cutAtClientMessage({
      match: (text) => JSON.parse(text).type === "complete",
      deliver: false,
      refuse: true,
    });
    const taskId = await startTask(project, marker, "Write late.txt");
    const jobId = JSON.parse(await cut).jobId as string;
    await until("the lease to run out", async () =>
      (await stateHistory(jobId)).includes("queued@1:worker_lost") ? true : undefined,
    );
    // Another worker (not behind the cut link) takes the retry and completes it.
    const other = await startWorker("direct", { direct: true });
    const done = await implementJob(taskId, (j) => FINAL.includes(j.state));
    expect(done).toMatchObject({ state: "completed", attempt: 2, workerId: other.workerId });

    // The first worker comes back with its complete for attempt 1: refused, as that attempt is over…
    await proxy.restore();
    const refused = await until("the refusal", async () =>
      serverErrors(from).find((e) => e.ref?.type === "complete" && e.ref.jobId === jobId),
    );
    expect(refused.code).toBe("stale_attempt");
    await untilPrintedAgain(late, STALE, refusals);
    // …and forgotten: after another reconnect it is not sent again.
    const links = () =>
      new Set(
        wire
          .slice(from)
          .filter((m) => m.from === "server" && JSON.parse(m.text).type === "registered")
          .map((m) => m.connection),
      );
    const before = links().size;
    proxy.cut();
    const relinked = await until("the worker back on a new connection", async () =>
      links().size > before ? Math.max(...links()) : undefined,
    );
    await until("its claim on the new connection", async () =>
      wire.some(
        (m) => m.connection === relinked && m.from === "client" && JSON.parse(m.text).type === "claim",
      )
        ? true
        : undefined,
    );
    expect(
      messages("client", "complete", jobId).filter((m) => (m as { attempt?: number }).attempt === 1),
    ).toHaveLength(2);
    expect(serverErrors(from)).toEqual([refused]);
    expect(late.child.exitCode).toBeNull();
    await expectDoneOnce(project, taskId, done, "late.txt", "written twice, completed once");
  });

  it("a worker cut off for longer than its lease: the attempt is given up, the worker stops it and runs the retry", async () => {
    const marker = "LONG-CUT-3a8";
    const hold = "sleep 3132";
    scripts.set(marker, writesFile("long-cut.txt", "written after a long cut", hold));
    const worker = await linkedWorker();
    const project = await newProject("Long cut");
    const from = wire.length;
    const taskId = await startTask(project, marker, "Write long-cut.txt");
    const first = await implementJob(taskId, (j) => j.state === "running");
    await until("the sandboxed command", async () =>
      (await processesRunning(hold)).length ? true : undefined,
    );

    await proxy.refuse();
    proxy.cut();
    // Nobody renews the lease: the sweeper gives the attempt up and queues the job again.
    await until("the lease to run out", async () =>
      (await stateHistory(first.id)).includes("queued@1:worker_lost") ? true : undefined,
    );
    await proxy.restore();

    const done = await implementJob(taskId, (j) => FINAL.includes(j.state));
    expect(done).toMatchObject({ state: "completed", attempt: 2, workerId: worker.workerId });
    expect(await stateHistory(first.id)).toEqual([
      "queued@0",
      "dispatched@1",
      "running@1",
      "queued@1:worker_lost",
      "dispatched@2",
      "running@2",
      "completed@2",
    ]);
    // Back, the worker learnt the attempt was no longer its own: it stopped it (the sandboxed command is
    // gone) without reporting on it, and took the retry.
    await until("the given-up attempt's sandbox to go", async () =>
      (await processesRunning(hold)).length === 0 ? true : undefined,
    );
    expect(serverErrors(from)).toEqual([]);
    expect(messages("client", "cancel-ack", first.id)).toEqual([]);
    await expectDoneOnce(project, taskId, done, "long-cut.txt", "written after a long cut");
  });

  it.each([
    { signal: "SIGKILL" as const, marker: "RESTART-KILL-7c4", hold: "sleep 6.0313" },
    { signal: "SIGTERM" as const, marker: "RESTART-TERM-1f6", hold: "sleep 6.0314" },
  ])(
    "server stopped with $signal during a job and started again: the worker reconnects, the job completes once",
    async ({ signal, marker, hold }) => {
      const file = `restart-${signal.toLowerCase()}.txt`;
      scripts.set(marker, writesFile(file, `written across a ${signal}`, hold));
      const worker = await linkedWorker();
      const project = await newProject(`Restart ${signal}`);
      const from = wire.length;
      const taskId = await startTask(project, marker, `Write ${file}`);
      const first = await implementJob(taskId, (j) => j.state === "running");
      await until("the sandboxed command", async () =>
        (await processesRunning(hold)).length ? true : undefined,
      );

      await server.stop(signal);
      await startServer();

      const done = await implementJob(taskId, (j) => FINAL.includes(j.state));
      expect(done).toMatchObject({ state: "completed", workerId: worker.workerId });
      // Either the attempt lived through the restart (the worker was back within its lease), or it was given
      // up and the retry completed; never two completions.
      const history = await stateHistory(first.id);
      expect(history.filter((h) => h.startsWith("completed"))).toEqual([`completed@${done.attempt}`]);
      expect(history.filter((h) => /^queued@[1-9]/.test(h))).toHaveLength(done.attempt - 1);
      expect(history.filter((h) => h.startsWith("failed"))).toEqual([]);
      console.info(`${signal}: ${history.join(" → ")}`);
      // The same worker process, registered again under its id with the new server.
      expect(worker.child.exitCode).toBeNull();
      const registered = wire
        .slice(from)
        .filter((m) => m.from === "server")
        .map((m) => JSON.parse(m.text))
        .filter((m) => m.type === "registered" && m.workerId === worker.workerId);
      expect(registered).not.toHaveLength(0);
      // The one answer that may be an error: the given-up attempt's final word, refused once and forgotten.
      const errors = serverErrors(from);
      expect(errors.length, JSON.stringify(errors)).toBeLessThanOrEqual(1);
      for (const e of errors) {
        expect(e).toMatchObject({ code: "stale_attempt", ref: { jobId: first.id } });
        expect(["complete", "fail"]).toContain(e.ref?.type);
      }
      await expectDoneOnce(project, taskId, done, file, `written across a ${signal}`);
      await until("the sandboxed command to end", async () =>
        (await processesRunning(hold)).length === 0 ? true : undefined,
      );
    },
  );
});
