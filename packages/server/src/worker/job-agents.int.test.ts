import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { type FakeProvider, startFakeProvider } from "@kiln/fake-provider";
import { type Agent, BUILTIN_AGENT_ID, type Job, type JobEvent } from "@kiln/protocol";
import type { FastifyBaseLogger } from "fastify";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUILTIN_AGENT } from "../agents/builtin.ts";
import { freePort } from "../testing/free-port.ts";
import { type SignedUp, startTestKiln, type TestKiln, uniqueSlug } from "../testing/harness.ts";
import { TestWorker } from "../testing/jobs.ts";
import { KilnWorker } from "./client.ts";

/** Board jobs run the agent a task or an automation rule names (ADR 0036), on a real worker. */

const WORKER_TOKEN = randomBytes(24).toString("hex");

let fake: FakeProvider;
let kiln: TestKiln;
let port: number;
let owner: SignedUp;
let org: string;
let workDir: string;
let worker: KilnWorker | undefined;

const copyEditor = {
  name: "Copy editor",
  description: "Fixes wording; never runs commands",
  icon: "✍️",
  systemPrompt: "You are a copy editor. Fix the wording of the project's text files; change nothing else.",
  tools: ["read_file", "write_file", "edit_file", "list_files"],
};

beforeAll(async () => {
  fake = await startFakeProvider();
  port = await freePort();
  kiln = await startTestKiln({
    env: {
      OPENAI_BASE_URL: `${fake.url}/v1`,
      OPENAI_API_KEY: "fake-key",
      KILN_MODEL: "openai/fake-model",
      KILN_WORKER_TOKEN: WORKER_TOKEN,
      KILN_PUBLIC_URL: `http://127.0.0.1:${port}`,
    },
  });
  await kiln.app.listen({ port, host: "127.0.0.1" });
  owner = await kiln.signup();
  org = uniqueSlug("org");
  await owner.client.post("/api/orgs", { name: "Agent jobs", slug: org });
  workDir = await mkdtemp(path.join(os.tmpdir(), "kiln-job-agents-"));
}, 120_000);

afterAll(async () => {
  await worker?.stop().catch(() => {});
  await kiln?.stop();
  await fake?.close();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

async function startWorker(): Promise<void> {
  if (worker) return;
  worker = new KilnWorker({
    server: `http://127.0.0.1:${port}`,
    token: WORKER_TOKEN,
    concurrency: 1,
    driver: kiln.driver,
    workDir,
    log: pino({ level: process.env.KILN_TEST_LOG ?? "silent" }) as FastifyBaseLogger,
  });
  await worker.start();
}

async function createAgent(client: SignedUp["client"], orgSlug: string, body: object): Promise<Agent> {
  const res = await client.post(`/api/orgs/${orgSlug}/agents`, body);
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

async function newProject(): Promise<{ slug: string; id: string; base: string }> {
  const res = await owner.client.post(`/api/orgs/${org}/projects`, { name: "Copy", template: "static" });
  expect(res.statusCode).toBe(201);
  const project = res.json();
  return { ...project, base: `/api/orgs/${org}/projects/${project.slug}` };
}

async function jobsOf(taskId: string, done: (jobs: Job[]) => boolean, ms = 60_000): Promise<Job[]> {
  const end = Date.now() + ms;
  let jobs: Job[] = [];
  while (Date.now() < end) {
    jobs = (await owner.client.get(`/api/orgs/${org}/jobs?taskId=${taskId}`)).json();
    if (done(jobs)) return jobs;
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`the task's jobs never got there: ${JSON.stringify(jobs)}`);
}

const finished = (j: Job) => ["completed", "failed", "cancelled"].includes(j.state);

function offeredTools(request: { body: unknown }): string[] {
  return ((request.body as { tools?: Array<{ function: { name: string } }> }).tools ?? []).map(
    (t) => t.function.name,
  );
}

function agentEvents(events: JobEvent[]) {
  return events.flatMap((e) => (e.event.type === "agent" ? [e.event.event] : []));
}

function gitIn(dir: string, ...args: string[]): string {
  return execFileSync("git", ["-c", `safe.directory=${dir}`, "-C", dir, ...args], { encoding: "utf8" });
}

describe("board jobs run a chosen agent", () => {
  it("a rule naming the Copy editor runs its job with exactly its tools and prompt; a forged bash call never runs", async () => {
    const agent = await createAgent(owner.client, org, { ...copyEditor, stepLimit: 5 });
    const project = await newProject();
    const rule = await owner.client.post(`${project.base}/automation/rules`, {
      name: "Copy edits go to the copy editor",
      trigger: { type: "task_created" },
      conditions: { labelsInclude: ["copy"] },
      actions: [{ type: "start_job", kind: "implement", agentId: agent.id.toUpperCase() }],
    });
    expect(rule.statusCode, rule.body).toBe(201);
    // Stored as the agent's id, whatever case it came in.
    expect(rule.json().actions[0]).toEqual({ type: "start_job", kind: "implement", agentId: agent.id });

    fake.reset();
    fake.enqueue(
      // A forged call of a tool the agent does not have…
      { toolCalls: [{ name: "bash", arguments: { command: "touch bash-was-here" } }] },
      // …and one it does.
      { toolCalls: [{ name: "write_file", arguments: { path: "copy.txt", content: "Wording fixed.\n" } }] },
      { text: "Fixed the wording." },
    );
    await startWorker();
    const task = (
      await owner.client.post(`${project.base}/tasks`, { title: "Fix the typos", labels: ["copy"] })
    ).json();
    const [job] = await jobsOf(task.id, (jobs) => jobs.length === 1 && finished(jobs[0]!));
    expect(job!.failure).toBeNull();
    expect(job).toMatchObject({ kind: "implement", state: "completed", agent: { id: agent.id, version: 1 } });

    // Every model call offered exactly the agent's tools, under its prompt and the project's guide.
    expect(fake.requests).toHaveLength(3);
    for (const request of fake.requests)
      expect(offeredTools(request).sort()).toEqual([...copyEditor.tools].sort());
    const body = JSON.stringify(fake.requests[0]!.body);
    expect(body).toContain(copyEditor.systemPrompt);
    expect(body).not.toContain("You are Kiln's coding agent.");
    expect(body).toContain("The project's guide (KILN.md)");

    // The job's log names the version that ran, and shows bash refused.
    const events: JobEvent[] = (await owner.client.get(`/api/orgs/${org}/jobs/${job!.id}/events`)).json();
    const run = agentEvents(events);
    expect(run[0]).toMatchObject({ type: "message-start", agent: { id: agent.id, version: 1 } });
    const ends = run.flatMap((e) => (e.type === "tool-call-end" ? [e] : []));
    expect(ends.map((e) => [e.toolName, e.isError])).toEqual([
      ["bash", true],
      ["write_file", false],
    ]);
    expect(ends[0]!.output).toMatch(/^Unknown tool "bash": not one of this agent's tools/);
    expect(events.some((e) => e.event.type === "step" && e.event.detail?.includes("Copy editor v1"))).toBe(
      true,
    );

    // Nothing ran: the pushed branch has the allowed file and no trace of the command.
    const dir = kiln.storage.projectDir((await owner.client.get(`/api/orgs/${org}`)).json().id, project.id);
    const branch = `kiln/task-${task.id}`;
    expect(gitIn(dir, "show", `${branch}:copy.txt`)).toBe("Wording fixed.\n");
    expect(() => gitIn(dir, "show", `${branch}:bash-was-here`)).toThrow();
  }, 120_000);

  it("a task assigned to an agent has its jobs run that agent's version as it was when the job was made", async () => {
    const agent = await createAgent(owner.client, org, { ...copyEditor, name: "Pinned" });
    const project = await newProject();
    const statuses = (await owner.client.get(`${project.base}/workflow`)).json().statuses as Array<{
      id: string;
      name: string;
    }>;
    const named = (name: string) => statuses.find((s) => s.name === name)!.id;
    const created = await owner.client.post(`${project.base}/tasks`, {
      title: "Pinned agent",
      assignee: { type: "agent", agentId: agent.id },
    });
    expect(created.statusCode, created.body).toBe(201);
    const task = created.json();
    expect(task.assignee).toEqual({ type: "agent", agentId: agent.id });
    // The workflow's own rules start the implement job; it records the agent's current version…
    await worker?.stop();
    worker = undefined;
    for (const name of ["To do", "In progress"]) {
      const moved = await owner.client.post(`${project.base}/tasks/${task.id}/move`, {
        statusId: named(name),
      });
      expect(moved.statusCode).toBe(200);
    }
    const [queued] = await jobsOf(task.id, (jobs) => jobs.length === 1);
    expect(queued).toMatchObject({ kind: "implement", state: "queued", agent: { id: agent.id, version: 1 } });
    // …which an edit made afterwards does not change: the job runs v1's prompt.
    const edited = await owner.client.put(`/api/orgs/${org}/agents/${agent.id}`, {
      ...copyEditor,
      name: "Pinned",
      systemPrompt: "Version two's words.",
      stepLimit: 1,
    });
    expect(edited.json().version).toBe(2);
    fake.reset();
    fake.enqueue({ text: "Nothing to change." }, { text: "Reviewed." });
    await startWorker();
    // The implement job moves the task to Review, whose rule starts a review job: made after the edit, it
    // records (and runs) version 2.
    const jobs = await jobsOf(task.id, (js) => js.length === 2 && js.every(finished));
    const implement = jobs.find((j) => j.kind === "implement")!;
    const review = jobs.find((j) => j.kind === "review")!;
    expect(implement).toMatchObject({ state: "completed", agent: { id: agent.id, version: 1 } });
    expect(review).toMatchObject({ state: "completed", agent: { id: agent.id, version: 2 } });
    expect(fake.requests).toHaveLength(2);
    expect(JSON.stringify(fake.requests[0]!.body)).toContain(copyEditor.systemPrompt);
    expect(JSON.stringify(fake.requests[0]!.body)).not.toContain("Version two's words.");
    expect(JSON.stringify(fake.requests[1]!.body)).toContain("Version two's words.");
    // A review offers only the read-only ones among the agent's tools.
    expect(offeredTools(fake.requests[1]!).sort()).toEqual(["list_files", "read_file"]);
  }, 120_000);

  it("respects the agent's step limit and runs on its default model", async () => {
    const agent = await createAgent(owner.client, org, {
      ...copyEditor,
      name: "One step",
      stepLimit: 1,
      defaultModel: "openai/fake-model-large",
    });
    const project = await newProject();
    fake.reset();
    fake.enqueue(
      { toolCalls: [{ name: "list_files", arguments: { path: "." } }] },
      { text: "never asked for" },
    );
    await startWorker();
    const started = await owner.client.post(`${project.base}/jobs`, {
      kind: "implement",
      instructions: "Look around",
      agentId: agent.id,
    });
    expect(started.statusCode, started.body).toBe(201);
    const end = Date.now() + 60_000;
    let job: Job = started.json();
    while (!finished(job) && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 150));
      job = (await owner.client.get(`/api/orgs/${org}/jobs/${job.id}`)).json();
    }
    expect(job).toMatchObject({ state: "failed", failure: { code: "step_limit" }, agent: { id: agent.id } });
    expect(fake.requests).toHaveLength(1);
    // The job's model comes from the agent's default (the org's when it names none).
    expect((fake.requests[0]!.body as { model?: string }).model).toBe("fake-model-large");
  }, 120_000);

  it("a job without an agent runs the built-in, and says so", async () => {
    const project = await newProject();
    fake.reset();
    fake.enqueue({ text: "Done." });
    await startWorker();
    const started = await owner.client.post(`${project.base}/jobs`, { kind: "review", instructions: "Look" });
    expect(started.statusCode).toBe(201);
    expect(started.json().agent).toEqual({ id: BUILTIN_AGENT_ID, version: BUILTIN_AGENT.version });
    const end = Date.now() + 60_000;
    let job: Job = started.json();
    while (!finished(job) && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 150));
      job = (await owner.client.get(`/api/orgs/${org}/jobs/${job.id}`)).json();
    }
    expect(job.state).toBe("completed");
    // A review offers the built-in's read-only tools.
    const offered = offeredTools(fake.requests[0]!);
    expect(offered).toContain("read_file");
    expect(offered).not.toContain("bash");
    expect(offered).not.toContain("write_file");
    expect(JSON.stringify(fake.requests[0]!.body)).toContain("You are Kiln's coding agent.");
    expect((fake.requests[0]!.body as { model?: string }).model).toBe("fake-model");
  }, 120_000);
});

describe("naming an agent on the board", () => {
  it("refuses an unknown, foreign or archived agent when it is set, and malformed ids", async () => {
    const project = await newProject();
    const other = await kiln.signup();
    const otherOrg = uniqueSlug("org");
    await other.client.post("/api/orgs", { name: "Other", slug: otherOrg });
    const foreign = await createAgent(other.client, otherOrg, { ...copyEditor, name: "Foreign" });
    const archived = await createAgent(owner.client, org, { ...copyEditor, name: "Archived" });
    expect((await owner.client.delete(`/api/orgs/${org}/agents/${archived.id}`)).statusCode).toBeLessThan(
      300,
    );
    const unknown = "7d4f8e2a-3b1c-4d5e-9f60-123456789abc";
    const task = (await owner.client.post(`${project.base}/tasks`, { title: "Target" })).json();

    for (const agentId of [foreign.id, archived.id, unknown]) {
      const refused = [
        await owner.client.post(`${project.base}/tasks`, {
          title: "x",
          assignee: { type: "agent", agentId },
        }),
        await owner.client.patch(`${project.base}/tasks/${task.id}`, {
          assignee: { type: "agent", agentId },
        }),
        await owner.client.post(`${project.base}/automation/rules`, {
          name: "r",
          trigger: { type: "task_created" },
          actions: [{ type: "start_job", kind: "implement", agentId }],
        }),
        await owner.client.post(`${project.base}/automation/rules`, {
          name: "r",
          trigger: { type: "task_created" },
          actions: [{ type: "assign", assignee: { type: "agent", agentId } }],
        }),
        await owner.client.post(`${project.base}/jobs`, { kind: "implement", instructions: "x", agentId }),
      ];
      for (const res of refused)
        expect([res.statusCode, res.json().error.code]).toEqual([404, "agent_not_found"]);
    }
    // Nothing was made or changed by the refusals.
    expect((await owner.client.get(`${project.base}/automation/rules`)).json()).toEqual(
      expect.not.arrayContaining([expect.objectContaining({ name: "r" })]),
    );
    expect((await owner.client.get(`${project.base}/tasks/${task.id}`)).json().assignee).toBeNull();
    expect((await owner.client.get(`/api/orgs/${org}/jobs?projectId=${project.id}`)).json()).toEqual([]);

    for (const agentId of ["nope", 7, ""]) {
      const bad = [
        await owner.client.post(`${project.base}/tasks`, {
          title: "x",
          assignee: { type: "agent", agentId },
        }),
        await owner.client.post(`${project.base}/automation/rules`, {
          name: "r",
          trigger: { type: "task_created" },
          actions: [{ type: "start_job", kind: "implement", agentId }],
        }),
        await owner.client.post(`${project.base}/jobs`, { kind: "implement", instructions: "x", agentId }),
      ];
      for (const res of bad) expect(res.statusCode).toBe(400);
    }

    // The built-in's id is the same as naming none.
    const builtIn = await owner.client.post(`${project.base}/tasks`, {
      title: "Built-in",
      assignee: { type: "agent", agentId: BUILTIN_AGENT_ID },
    });
    expect(builtIn.json().assignee).toEqual({ type: "agent" });
  });

  it("a rule whose agent was archived after it was saved starts no job and says why", async () => {
    const agent = await createAgent(owner.client, org, { ...copyEditor, name: "Soon gone" });
    const project = await newProject();
    const rule = await owner.client.post(`${project.base}/automation/rules`, {
      name: "Gone agent",
      trigger: { type: "task_created" },
      actions: [{ type: "start_job", kind: "implement", agentId: agent.id }],
    });
    expect(rule.statusCode).toBe(201);
    await owner.client.delete(`/api/orgs/${org}/agents/${agent.id}`);
    const task = (await owner.client.post(`${project.base}/tasks`, { title: "Orphan" })).json();
    const end = Date.now() + 10_000;
    let activity: Array<{ kind: string; message: string | null }> = [];
    while (Date.now() < end) {
      activity = (await owner.client.get(`${project.base}/tasks/${task.id}/activity`)).json();
      if (activity.some((a) => a.kind === "automation_failed")) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const failed = activity.find((a) => a.kind === "automation_failed");
    expect(failed?.message).toContain("no such agent");
    expect((await owner.client.get(`/api/orgs/${org}/jobs?taskId=${task.id}`)).json()).toEqual([]);
  });
});

describe("workers from before agents", () => {
  it("are given built-in jobs only; a protocol-2 worker gets an org agent's job with its spec", async () => {
    await worker?.stop();
    worker = undefined;
    const project = await newProject();
    const agent = await createAgent(owner.client, org, { ...copyEditor, name: "Needs v2", stepLimit: 7 });
    const token = (await owner.client.post(`/api/orgs/${org}/workers/tokens`, { name: "old" })).json().token;
    const socketUrl = `ws://127.0.0.1:${port}/api/workers/socket`;
    const old = await TestWorker.connect(socketUrl, token);
    const current = await TestWorker.connect(socketUrl, token);
    try {
      await old.register({ name: "old worker", concurrency: 2 });
      const start = (body: object) =>
        owner.client.post(`${project.base}/jobs`, { kind: "implement", instructions: "x", ...body });
      const agentJob = (await start({ agentId: agent.id })).json() as Job;
      const builtInJob = (await start({})).json() as Job;
      // The old worker gets the built-in's job, never the org agent's.
      const pushed = await old.waitFor("job", (m) => m.job.id === builtInJob.id);
      expect(pushed.job.agent).toEqual({ id: BUILTIN_AGENT_ID, version: BUILTIN_AGENT.version });
      await new Promise((r) => setTimeout(r, 300));
      expect(old.received.some((m) => m.type === "job" && m.job.id === agentJob.id)).toBe(false);
      expect((await owner.client.get(`/api/orgs/${org}/jobs/${agentJob.id}`)).json().state).toBe("queued");

      await current.register({ name: "current worker", protocol: 2 });
      const got = await current.waitFor("job", (m) => m.job.id === agentJob.id);
      expect(got.agent).toEqual({
        id: agent.id,
        version: 1,
        name: "Needs v2",
        systemPrompt: copyEditor.systemPrompt,
        tools: copyEditor.tools,
        stepLimit: 7,
        defaultModel: null,
      });
    } finally {
      for (const w of [old, current]) await w.close().catch(() => {});
      for (const j of (
        await owner.client.get(`/api/orgs/${org}/jobs?projectId=${project.id}`)
      ).json() as Job[])
        await owner.client.post(`/api/orgs/${org}/jobs/${j.id}/cancel`);
    }
  });
});
