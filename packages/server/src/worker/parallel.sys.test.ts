import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {
  currentTurn,
  type FakeProvider,
  lastUserText,
  type RecordedRequest,
  type Reply,
  readConversation,
  startFakeProvider,
} from "@kiln/fake-provider";
import type { Job } from "@kiln/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../testing/free-port.ts";
import { uniqueEmail, uniqueSlug } from "../testing/harness.ts";
import { type PreviewAnswer, previewGet } from "../testing/preview.ts";
import {
  type ApiClient,
  freshDatabase,
  type ServerProcess,
  signUp,
  startServerProcess,
  startWorkerProcess,
  type WorkerProcess,
} from "../testing/processes.ts";

/**
 * Two real `kiln worker` processes (one job slot each) against a real `kiln start`: two tasks of one project
 * are implemented at the same time, each on its own branch; one is approved (main and the preview change),
 * the other gets "request changes" and a fix job on the same branch before it is approved.
 */

const WORKER_TOKEN = randomBytes(24).toString("hex");

/** What the scripted model does for one task; the task's marker in its description tells the jobs apart. */
interface Script {
  marker: string;
  file: string;
  content: string;
  fixed: string;
}

let db: Awaited<ReturnType<typeof freshDatabase>>;
let fake: FakeProvider;
let server: ServerProcess;
let port: number;
let dataDir: string;
const workers: WorkerProcess[] = [];
let owner: ApiClient;
let org: string;
let releaseBoth: () => void;
/** Resolved once the test has seen both implement jobs running; their first model calls wait for it. */
const bothRunning = new Promise<void>((resolve) => {
  releaseBoth = resolve;
});
const scripts: Script[] = [
  {
    marker: "ALPHA-7f3",
    file: "alpha.html",
    content: "<h1>Alpha page</h1>\n",
    fixed: "<h1>Alpha page</h1>\n",
  },
  {
    marker: "BRAVO-2c9",
    file: "bravo.html",
    content: "<h1>Bravo page</h1>\n",
    fixed: "<h1>Bravo team</h1>\n",
  },
];

/**
 * Answers each request from its own conversation, so two jobs interleaving their model calls each get
 * their own script: implement → write the file, fix → rewrite it, review → a verdict; then a summary.
 */
async function respond(request: RecordedRequest): Promise<Reply> {
  const messages = readConversation(request);
  const brief = lastUserText(messages);
  const script = scripts.find((s) => brief.includes(s.marker));
  if (!script) return { text: "Nothing to do." };
  if (brief.startsWith("Review")) return { text: `Reviewed ${script.marker}: looks right.` };
  const acted = currentTurn(messages).some((m) => m.toolResults.length > 0);
  const fixing = brief.includes("reviewer asks");
  if (acted) return { text: `${fixing ? "Fixed" : "Added"} ${script.file} for ${script.marker}.` };
  if (!fixing) await bothRunning;
  return {
    toolCalls: [
      {
        name: "write_file",
        arguments: { path: script.file, content: fixing ? script.fixed : script.content },
      },
    ],
  };
}

beforeAll(async () => {
  db = await freshDatabase();
  fake = await startFakeProvider({ responder: respond });
  port = await freePort();
  dataDir = await mkdtemp(path.join(os.tmpdir(), "kiln-sys-parallel-"));
  server = await startServerProcess({
    dataDir,
    port,
    env: {
      DATABASE_URL: db.url,
      KILN_EMBEDDED_WORKERS: "0",
      KILN_WORKER_TOKEN: WORKER_TOKEN,
      // Workers clone and call the model proxy at the URLs the server hands out.
      KILN_PUBLIC_URL: `http://127.0.0.1:${port}`,
      OPENAI_BASE_URL: `${fake.url}/v1`,
      OPENAI_API_KEY: "fake-key",
      KILN_MODEL: "openai/fake-model",
    },
  });
  for (const name of ["left", "right"]) {
    workers.push(
      await startWorkerProcess({
        server: server.url,
        token: WORKER_TOKEN,
        workDir: path.join(dataDir, `worker-${name}`),
        concurrency: 1,
        name,
      }),
    );
  }
  owner = await signUp(server.url, uniqueEmail("parallel"));
  org = uniqueSlug("org");
  expect((await owner.call("POST", "/api/orgs", { name: "Parallel", slug: org })).status).toBe(201);
}, 120_000);

afterAll(async () => {
  releaseBoth?.();
  for (const w of workers) await w.stop("SIGKILL");
  await server?.stop();
  await fake?.close();
  await db?.drop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

async function until<T>(what: string, read: () => Promise<T>, done: (v: T) => boolean, ms = 60_000) {
  const end = Date.now() + ms;
  let last: T | undefined;
  while (Date.now() < end) {
    last = await read();
    if (done(last)) return last;
    await new Promise((r) => setTimeout(r, 150));
  }
  const logs = [server, ...workers].map((p) => p.output().slice(-3000)).join("\n---\n");
  throw new Error(`${what} never happened; last: ${JSON.stringify(last)}\n${logs}`);
}

describe("two kiln worker processes", () => {
  it("implement two tasks in parallel; one is approved and merged, the other gets changes requested", async () => {
    const project = (
      await owner.call("POST", `/api/orgs/${org}/projects`, { name: "Two tasks", template: "static" })
    ).json;
    const base = `/api/orgs/${org}/projects/${project.slug}`;
    const statuses = (await owner.call("GET", `${base}/workflow`)).json.statuses as Array<{
      id: string;
      name: string;
    }>;
    const status = (name: string) => statuses.find((s) => s.name === name)!.id;
    const [alpha, bravo] = await Promise.all(
      scripts.map(
        async (s) =>
          (
            await owner.call("POST", `${base}/tasks`, {
              title: `Add ${s.file}`,
              description: `Create ${s.file} (${s.marker}).`,
              assignee: { type: "agent" },
            })
          ).json,
      ),
    );
    for (const task of [alpha, bravo]) {
      const moved = await owner.call("POST", `${base}/tasks/${task.id}/move`, {
        statusId: status("In progress"),
      });
      expect(moved.status).toBe(200);
    }
    const jobsOf = async (taskId: string): Promise<Job[]> =>
      (await owner.call("GET", `/api/orgs/${org}/jobs?taskId=${taskId}`)).json;

    // Both implement jobs are running at once, one on each worker: their first model calls are held until
    // this has been seen, so neither can finish before the other started.
    const running = await until(
      "both implement jobs running on two workers",
      async () => [...(await jobsOf(alpha.id)), ...(await jobsOf(bravo.id))],
      (jobs) => jobs.length === 2 && jobs.every((j) => j.state === "running"),
    );
    expect(new Set(running.map((j) => j.workerId))).toEqual(new Set(workers.map((w) => w.workerId)));
    releaseBoth();

    // Each lands in Review with its summary, and the default rule's review job runs after it.
    const settled = async (taskId: string) =>
      until(
        `task ${taskId} implemented and reviewed`,
        () => jobsOf(taskId),
        (jobs) => jobs.length === 2 && jobs.every((j) => j.state === "completed"),
      );
    const [alphaJobs, bravoJobs] = await Promise.all([settled(alpha.id), settled(bravo.id)]);
    const implement = (jobs: Job[]) => jobs.find((j) => j.kind === "implement")!;
    const [a, b] = [implement(alphaJobs), implement(bravoJobs)];
    expect(a.result!.branch).toBe(`kiln/task-${alpha.id}`);
    expect(b.result!.branch).toBe(`kiln/task-${bravo.id}`);
    expect(a.workerId).not.toBe(b.workerId);
    // The attempts overlapped in time.
    expect(Date.parse(a.startedAt!)).toBeLessThan(Date.parse(b.finishedAt!));
    expect(Date.parse(b.startedAt!)).toBeLessThan(Date.parse(a.finishedAt!));
    for (const task of [alpha, bravo]) {
      expect((await owner.call("GET", `${base}/tasks/${task.id}`)).json.statusId).toBe(status("Review"));
    }

    // Each review shows its own branch and only its own file.
    for (const [task, script] of [
      [alpha, scripts[0]!],
      [bravo, scripts[1]!],
    ] as const) {
      const review = (await owner.call("GET", `${base}/tasks/${task.id}/review`)).json;
      expect(review.branch).toBe(`kiln/task-${task.id}`);
      expect(review.summary).toContain(script.marker);
      expect(review.diff.files.map((f: { path: string; status: string }) => [f.path, f.status])).toEqual([
        [script.file, "added"],
      ]);
    }

    // The preview runs main: neither page yet.
    const preview = await previewCookie(base);
    await until(
      "the preview serving main",
      () => previewGet(port, preview.host, "/", preview.cookie),
      (r) => r.status === 200 && r.body.includes("Hello, static web"),
    );
    expect((await previewGet(port, preview.host, "/alpha.html", preview.cookie)).status).toBe(404);

    // Approving Alpha merges its branch: main has the file, the preview serves it, the task is Done.
    const approved = await owner.call("POST", `${base}/tasks/${alpha.id}/review`, { decision: "approve" });
    expect(approved.status).toBe(200);
    expect(approved.json.task.statusId).toBe(status("Done"));
    expect(approved.json.merged.message).toContain("Add alpha.html");
    expect(await mainFile(base, "alpha.html")).toBe(scripts[0]!.content);
    expect(await mainFile(base, "bravo.html")).toBeUndefined();
    const page: PreviewAnswer = await until(
      "the preview serving alpha.html",
      () => previewGet(port, preview.host, "/alpha.html", preview.cookie),
      (r) => r.status === 200,
    );
    expect(page.body).toContain("Alpha page");

    // Requesting changes on Bravo starts a fix job on the same branch with the reviewer's words…
    const comment = "Make the heading say Bravo team";
    const changes = await owner.call("POST", `${base}/tasks/${bravo.id}/review`, {
      decision: "request_changes",
      comment,
    });
    expect(changes.status).toBe(200);
    expect(changes.json.merged).toBeNull();
    const fix: Job = await until(
      "the fix job finishing",
      async () => (await owner.call("GET", `/api/orgs/${org}/jobs/${changes.json.jobId}`)).json,
      (j) => ["completed", "failed", "cancelled"].includes(j.state),
    );
    expect(fix).toMatchObject({ kind: "fix", state: "completed", taskId: bravo.id });
    expect(fix.instructions).toContain(comment);
    expect(fix.result!.branch).toBe(`kiln/task-${bravo.id}`);
    expect(workers.map((w) => w.workerId)).toContain(fix.workerId);
    // …which lands back in Review with the changed file, still not on main.
    expect((await owner.call("GET", `${base}/tasks/${bravo.id}`)).json.statusId).toBe(status("Review"));
    const again = (await owner.call("GET", `${base}/tasks/${bravo.id}/review`)).json;
    expect(again.job.id).toBe(fix.id);
    expect(again.diff.files.map((f: { path: string }) => f.path)).toEqual(["bravo.html"]);
    expect(again.diff.files[0].hunks.flatMap((h: { lines: string[] }) => h.lines)).toContain(
      "+<h1>Bravo team</h1>",
    );
    expect(await mainFile(base, "bravo.html")).toBeUndefined();
    const comments = (await owner.call("GET", `${base}/tasks/${bravo.id}/comments`)).json as Array<{
      body: string;
    }>;
    expect(comments.map((c) => c.body).join("\n")).toContain(`Fixed bravo.html for ${scripts[1]!.marker}`);

    // Approved after the fix, it merges next to Alpha's change (main moved on since the branch started).
    const second = await owner.call("POST", `${base}/tasks/${bravo.id}/review`, { decision: "approve" });
    expect(second.status).toBe(200);
    expect(await mainFile(base, "bravo.html")).toBe(scripts[1]!.fixed);
    expect(await mainFile(base, "alpha.html")).toBe(scripts[0]!.content);
  });
});

/** A main-branch file through the files API; undefined when it is not there. */
async function mainFile(base: string, file: string): Promise<string | undefined> {
  const res = await owner.call("GET", `${base}/files/content?path=${encodeURIComponent(file)}`);
  if (res.status === 404) return undefined;
  expect(res.status).toBe(200);
  return res.json.content;
}

/** Signs in to the project's private preview like the studio does: hand-off link → cookie. */
async function previewCookie(base: string): Promise<{ host: string; cookie: string }> {
  const res = await owner.call("POST", `${base}/preview-session`);
  expect(res.status).toBe(200);
  const url = new URL(res.json.url);
  const answer = await previewGet(port, url.host, url.pathname + url.search);
  const cookie = answer.headers["set-cookie"]?.find((c) => c.startsWith("kiln_preview="));
  expect(cookie, `${answer.status} ${answer.body.slice(0, 300)}`).toBeDefined();
  return { host: url.host, cookie: cookie!.split(";")[0]! };
}
