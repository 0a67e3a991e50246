import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type FakeProvider, startFakeProvider } from "@kiln/fake-provider";
import type { Job } from "@kiln/protocol";
import type { FastifyBaseLogger } from "fastify";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../testing/free-port.ts";
import { type SignedUp, startTestKiln, type TestKiln, uniqueSlug } from "../testing/harness.ts";
import { KilnWorker } from "./client.ts";

const CLI = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "cli.ts");
const WORKER_TOKEN = randomBytes(24).toString("hex");

let fake: FakeProvider;
let kiln: TestKiln;
let port: number;
let owner: SignedUp;
let org: string;
let workDir: string;
const stops: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  fake = await startFakeProvider();
  port = await freePort();
  kiln = await startTestKiln({
    env: {
      OPENAI_BASE_URL: `${fake.url}/v1`,
      OPENAI_API_KEY: "fake-key",
      KILN_MODEL: "openai/fake-model",
      KILN_WORKER_TOKEN: WORKER_TOKEN,
      // Workers clone and call the model proxy at the URLs the server hands out.
      KILN_PUBLIC_URL: `http://127.0.0.1:${port}`,
    },
  });
  await kiln.app.listen({ port, host: "127.0.0.1" });
  owner = await kiln.signup();
  org = uniqueSlug("org");
  await owner.client.post("/api/orgs", { name: "Workers", slug: org });
  workDir = await mkdtemp(path.join(os.tmpdir(), "kiln-worker-test-"));
}, 120_000);

afterAll(async () => {
  for (const stop of stops) await stop().catch(() => {});
  await kiln?.stop();
  await fake?.close();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

async function newProject(): Promise<{ slug: string; id: string }> {
  const res = await owner.client.post(`/api/orgs/${org}/projects`, { name: "Board app", template: "static" });
  expect(res.statusCode).toBe(201);
  return res.json();
}

async function untilJob(jobId: string, done: (job: Job) => boolean, ms = 60_000): Promise<Job> {
  const end = Date.now() + ms;
  let job: Job | undefined;
  while (Date.now() < end) {
    job = (await owner.client.get(`/api/orgs/${org}/jobs/${jobId}`)).json() as Job;
    if (done(job)) return job;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`job never got there: ${JSON.stringify(job)}`);
}

function gitIn(dir: string, ...args: string[]): string {
  return execFileSync("git", ["-c", `safe.directory=${dir}`, "-C", dir, ...args], { encoding: "utf8" });
}

async function orgId(): Promise<string> {
  return (await owner.client.get(`/api/orgs/${org}`)).json().id;
}

describe("kiln worker", () => {
  it("takes a job, works on its branch in a sandbox, pushes it and completes once", async () => {
    const project = await newProject();
    fake.reset();
    fake.enqueue(
      {
        toolCalls: [
          { name: "write_file", arguments: { path: "hello.txt", content: "hello from a worker\n" } },
        ],
      },
      { toolCalls: [{ name: "bash", arguments: { command: "cat hello.txt && id -u" } }] },
      { text: "Added hello.txt with a greeting." },
    );
    const worker = new KilnWorker({
      server: `http://127.0.0.1:${port}`,
      token: WORKER_TOKEN,
      concurrency: 1,
      driver: kiln.driver,
      workDir,
      log: pino({ level: process.env.KILN_TEST_LOG ?? "silent" }) as FastifyBaseLogger,
    });
    stops.push(() => worker.stop());
    await worker.start();

    const started = await owner.client.post(`/api/orgs/${org}/projects/${project.slug}/jobs`, {
      kind: "implement",
      instructions: "Add a hello.txt file",
    });
    expect(started.statusCode).toBe(201);
    const jobId = started.json().id;
    const job = await untilJob(jobId, (j) => ["completed", "failed", "cancelled"].includes(j.state));
    expect(job.failure).toBeNull();
    expect(job.state).toBe("completed");
    expect(job.result).toMatchObject({
      summary: "Added hello.txt with a greeting.",
      branch: `kiln/job-${jobId}`,
    });

    // The branch is in the project's repository, with the agent's file; main is untouched.
    const dir = kiln.storage.projectDir(await orgId(), project.id);
    expect(gitIn(dir, "rev-parse", `refs/heads/kiln/job-${jobId}`).trim()).toBe(job.result!.commit);
    expect(gitIn(dir, "show", `kiln/job-${jobId}:hello.txt`)).toBe("hello from a worker\n");
    expect(() => gitIn(dir, "show", "main:hello.txt")).toThrow();

    // Every model call went through the server's proxy with the job's token, and is logged for the job.
    expect(fake.requests.every((r) => r.headers.authorization === "Bearer fake-key")).toBe(true);
    await kiln.services.llm.calls.flush();
    const calls = (await owner.client.get(`/api/orgs/${org}/llm/calls?projectId=${project.id}`)).json().calls;
    expect(calls.length).toBe(3);

    // The job's log shows the steps and the agent's turn.
    const events = (await owner.client.get(`/api/orgs/${org}/jobs/${jobId}/events`)).json();
    const kinds = events.map((e: { event: { type: string } }) => e.event.type);
    expect(kinds).toContain("step");
    expect(kinds).toContain("agent");
    const bash = events.find(
      (e: { event: { type: string; event?: { type: string; toolName?: string } } }) =>
        e.event.type === "agent" &&
        e.event.event?.type === "tool-call-end" &&
        e.event.event.toolName === "bash",
    );
    expect(bash.event.event.output).toContain("hello from a worker");
    expect(bash.event.event.output).not.toMatch(/^0$/m);
    await worker.stop();
  }, 120_000);

  it("runs as a separate `kiln worker` process", async () => {
    const project = await newProject();
    fake.reset();
    fake.enqueue(
      {
        toolCalls: [{ name: "write_file", arguments: { path: "cli.txt", content: "from the cli worker\n" } }],
      },
      { text: "Wrote cli.txt." },
    );
    const child: ChildProcess = spawn(
      process.execPath,
      [CLI, "worker", "--server", `http://127.0.0.1:${port}`, "--concurrency", "2", "--work-dir", workDir],
      {
        env: { ...process.env, KILN_WORKER_TOKEN: WORKER_TOKEN, LOG_LEVEL: "warn" },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let out = "";
    child.stdout!.on("data", (d) => (out += d));
    child.stderr!.on("data", (d) => (out += d));
    stops.push(async () => {
      if (child.exitCode === null) child.kill("SIGKILL");
    });
    const connectedUntil = Date.now() + 60_000;
    while (!/connected to/.test(out) && Date.now() < connectedUntil)
      await new Promise((r) => setTimeout(r, 50));
    const workerId = /kiln worker (\S+) connected/.exec(out)?.[1];
    expect(workerId, out).toBeDefined();
    const started = await owner.client.post(`/api/orgs/${org}/projects/${project.slug}/jobs`, {
      kind: "implement",
      instructions: "Write cli.txt",
    });
    const jobId = started.json().id;
    const job = await untilJob(jobId, (j) => ["completed", "failed", "cancelled"].includes(j.state)).catch(
      (err) => {
        throw new Error(`${(err as Error).message}\nworker output:\n${out}`);
      },
    );
    expect(job.state, out).toBe("completed");
    expect(job.workerId).toBe(workerId);
    const dir = kiln.storage.projectDir(await orgId(), project.id);
    expect(gitIn(dir, "show", `kiln/job-${jobId}:cli.txt`)).toBe("from the cli worker\n");
    // SIGTERM stops it cleanly.
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
  }, 120_000);

  it("runs the board's flow: In progress → implement job → Review with the summary → review job", async () => {
    const project = await newProject();
    fake.reset();
    fake.enqueue(
      { toolCalls: [{ name: "write_file", arguments: { path: "about.html", content: "<h1>About</h1>\n" } }] },
      { text: "Added an About page." },
      { text: "Reviewed: the About page is fine." },
    );
    const worker = new KilnWorker({
      server: `http://127.0.0.1:${port}`,
      token: WORKER_TOKEN,
      concurrency: 1,
      driver: kiln.driver,
      workDir,
      log: pino({ level: "silent" }) as FastifyBaseLogger,
    });
    stops.push(() => worker.stop());
    await worker.start();
    const base = `/api/orgs/${org}/projects/${project.slug}`;
    const statuses = (await owner.client.get(`${base}/workflow`)).json().statuses as Array<{
      id: string;
      name: string;
      group: string;
    }>;
    const named = (name: string) => statuses.find((s) => s.name === name)!.id;
    const task = (
      await owner.client.post(`${base}/tasks`, {
        title: "About page",
        description: "Add an about.html page",
        assignee: { type: "agent" },
      })
    ).json();
    expect(
      (await owner.client.post(`${base}/tasks/${task.id}/move`, { statusId: named("To do") })).statusCode,
    ).toBe(200);
    expect(
      (await owner.client.post(`${base}/tasks/${task.id}/move`, { statusId: named("In progress") }))
        .statusCode,
    ).toBe(200);
    const end = Date.now() + 60_000;
    let jobs: Job[] = [];
    while (Date.now() < end) {
      jobs = (await owner.client.get(`/api/orgs/${org}/jobs?taskId=${task.id}`)).json();
      if (jobs.length === 2 && jobs.every((j) => j.state === "completed")) break;
      await new Promise((r) => setTimeout(r, 150));
    }
    expect(jobs.map((j) => [j.kind, j.state]).sort()).toEqual([
      ["implement", "completed"],
      ["review", "completed"],
    ]);
    const implement = jobs.find((j) => j.kind === "implement")!;
    expect(implement.instructions).toContain("About page");
    expect(implement.result!.branch).toBe(`kiln/task-${task.id}`);
    // The first model request carried the task as the user's brief.
    expect(JSON.stringify(fake.requests[0]!.body)).toContain("Add an about.html page");
    const moved = (await owner.client.get(`${base}/tasks/${task.id}`)).json();
    expect(moved.statusId).toBe(named("Review"));
    const comments = (await owner.client.get(`${base}/tasks/${task.id}/comments`)).json() as Array<{
      body: string;
    }>;
    expect(comments.map((c) => c.body).join("\n")).toContain("Added an About page.");
    expect(comments.map((c) => c.body).join("\n")).toContain("Reviewed: the About page is fine.");

    // The reviewer sees the branch's diff, asks for a change, the agent fixes it on the same branch…
    const review = (await owner.client.get(`${base}/tasks/${task.id}/review`)).json();
    expect(review.branch).toBe(`kiln/task-${task.id}`);
    expect(review.diff.files.map((f: { path: string }) => f.path)).toEqual(["about.html"]);
    const vague = await owner.client.post(`${base}/tasks/${task.id}/review`, { decision: "request_changes" });
    expect(vague.statusCode).toBe(400);
    fake.enqueue(
      {
        toolCalls: [
          { name: "write_file", arguments: { path: "about.html", content: "<h1>About us</h1>\n" } },
        ],
      },
      { text: "Renamed the heading." },
    );
    const changes = await owner.client.post(`${base}/tasks/${task.id}/review`, {
      decision: "request_changes",
      comment: "Call it About us",
    });
    expect(changes.statusCode).toBe(200);
    const fix = await untilJob(changes.json().jobId, (j) => ["completed", "failed"].includes(j.state));
    expect(fix).toMatchObject({ kind: "fix", state: "completed" });
    expect(fix.instructions).toContain("Call it About us");
    // …and approving merges the branch into main: the project's files change.
    const approved = await owner.client.post(`${base}/tasks/${task.id}/review`, { decision: "approve" });
    expect(approved.statusCode).toBe(200);
    expect(approved.json().merged.message).toContain("About page");
    expect(approved.json().task.statusId).toBe(named("Done"));
    const file = await owner.client.get(`${base}/files/content?path=about.html`);
    expect(file.json().content).toBe("<h1>About us</h1>\n");
    await worker.stop();
  }, 120_000);

  it("has nothing to review on a task without agent work, and refuses other branches", async () => {
    const project = await newProject();
    const base = `/api/orgs/${org}/projects/${project.slug}`;
    const task = (await owner.client.post(`${base}/tasks`, { title: "Manual" })).json();
    expect((await owner.client.get(`${base}/tasks/${task.id}/review`)).json()).toMatchObject({
      branch: null,
    });
    const approve = await owner.client.post(`${base}/tasks/${task.id}/review`, { decision: "approve" });
    expect(approve.statusCode).toBe(409);
    expect(approve.json().error.code).toBe("review_not_ready");
    // While an agent job is queued or running on the task, neither decision is taken (no worker runs here).
    const statuses = (await owner.client.get(`${base}/workflow`)).json().statuses as Array<{
      id: string;
      name: string;
    }>;
    const busy = (
      await owner.client.post(`${base}/tasks`, { title: "Busy", assignee: { type: "agent" } })
    ).json();
    for (const name of ["To do", "In progress"]) {
      const statusId = statuses.find((s) => s.name === name)!.id;
      expect((await owner.client.post(`${base}/tasks/${busy.id}/move`, { statusId })).statusCode).toBe(200);
    }
    const queued = (await owner.client.get(`/api/orgs/${org}/jobs?taskId=${busy.id}`)).json() as Job[];
    expect(queued.map((j) => [j.kind, j.state])).toEqual([["implement", "queued"]]);
    for (const body of [{ decision: "approve" }, { decision: "request_changes", comment: "More" }]) {
      const res = await owner.client.post(`${base}/tasks/${busy.id}/review`, body);
      expect(res.statusCode).toBe(409);
      expect(res.json().error).toMatchObject({ code: "task_busy", details: { jobId: queued[0]!.id } });
    }
    expect((await owner.client.get(`/api/orgs/${org}/jobs?taskId=${busy.id}`)).json()).toHaveLength(1);
    await owner.client.post(`/api/orgs/${org}/jobs/${queued[0]!.id}/cancel`);
    await expect(
      kiln.services.history.mergeBranch({ orgId: await orgId(), projectId: project.id }, "main", "x"),
    ).rejects.toThrow(/work branch/);
    await expect(
      kiln.services.history.mergeBranch(
        { orgId: await orgId(), projectId: project.id },
        "kiln/--upload-pack=x",
        "x",
      ),
    ).rejects.toThrow(/branch/);
  });

  it("refuses bad arguments", () => {
    const run = (...args: string[]) => {
      try {
        execFileSync(process.execPath, [CLI, "worker", ...args], {
          env: { ...process.env, KILN_WORKER_TOKEN: "" },
          stdio: "pipe",
        });
        return 0;
      } catch (err) {
        return (err as { status: number }).status;
      }
    };
    expect(run()).not.toBe(0);
    expect(run("--server", "ftp://x", "--token", "t")).not.toBe(0);
    expect(run("--server", "http://127.0.0.1:1", "--token", "t", "--concurrency", "0")).not.toBe(0);
    expect(run("--bogus")).not.toBe(0);
    // Four cold starts of the CLI one after another: on a loaded machine that outlasts the default 30 s.
  }, 90_000);
});
