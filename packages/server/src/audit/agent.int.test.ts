import type { AddressInfo } from "node:net";
import { type FakeProvider, startFakeProvider } from "@kiln/fake-provider";
import type { AgentEvent, AuditEvent, ChatMessage, LlmCall } from "@kiln/protocol";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { jobs } from "../db/schema-shared.ts";
import { JobToolAudit } from "../jobs/tool-audit.ts";
import { type SignedUp, startTestKiln, type TestKiln, uniqueSlug } from "../testing/harness.ts";
import { TestWorker } from "../testing/jobs.ts";
import { digestOf } from "./record.ts";

/**
 * What agents did, on whose behalf (ADR 0033): every tool call of a chat turn or a board job with its
 * arguments' digest (never the arguments) and outcome, and every model call, for the person it was made for.
 */

let fake: FakeProvider;
let kiln: TestKiln;
let base: string;
let owner: SignedUp;
let dev: SignedUp;
let slug: string;
let audit: string;

beforeAll(async () => {
  fake = await startFakeProvider();
  kiln = await startTestKiln({
    env: {
      OPENAI_BASE_URL: `${fake.url}/v1`,
      OPENAI_API_KEY: "fake-key",
      KILN_MODEL: "openai/fake-model",
      KILN_APPROVAL_TIMEOUT_SECONDS: "20",
      KILN_LLM_RETRY_BASE_MS: "10",
    },
  });
  await kiln.app.listen({ port: 0, host: "127.0.0.1" });
  base = `http://127.0.0.1:${(kiln.app.server.address() as AddressInfo).port}`;
  owner = await kiln.signup();
  slug = uniqueSlug("agents");
  expect((await owner.client.post("/api/orgs", { name: "Agents", slug })).statusCode).toBe(201);
  // The turns and jobs are a developer's: the records name them, not the owner who reads the log.
  dev = await kiln.signup();
  const invited = await owner.client.post(`/api/orgs/${slug}/invitations`, {
    email: dev.user.email,
    role: "developer",
  });
  const token = new URL(invited.json().url).pathname.split("/").at(-1);
  expect((await dev.client.post(`/api/invitations/${token}/accept`)).statusCode).toBe(200);
  audit = `/api/orgs/${slug}/audit/events`;
}, 120_000);

afterAll(async () => {
  await kiln?.stop();
  await fake?.close();
});

beforeEach(() => fake.reset());

async function auditEvents(query: string): Promise<AuditEvent[]> {
  const res = await owner.client.get(`${audit}?limit=200&${query}`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json().events;
}

async function newProject(): Promise<{ id: string; slug: string }> {
  const res = await dev.client.post(`/api/orgs/${slug}/projects`, {
    name: "Audited app",
    template: "static",
  });
  expect(res.statusCode).toBe(201);
  return { id: res.json().id, slug: res.json().slug };
}

async function untilFinished(url: string): Promise<ChatMessage> {
  const end = Date.now() + 60_000;
  while (Date.now() < end) {
    const last = (await dev.client.get(url)).json().messages.at(-1) as ChatMessage;
    if (last.status !== "running") return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("turn did not finish");
}

const SECRET_CONTENT = "the-file-content-that-stays-out-of-the-log-7f3a";

describe("a chat turn's tool and model calls", () => {
  it("records each call for the sender, with the digest of its arguments, its outcome and the llm_calls ids", async () => {
    const project = await newProject();
    const chatRes = await dev.client.post(`/api/orgs/${slug}/projects/${project.slug}/chats`, {});
    expect(chatRes.statusCode).toBe(201);
    const chat: string = chatRes.json().id;
    const write = { path: "notes.txt", content: `${SECRET_CONTENT}\n` };
    const bash = { command: "wc -c notes.txt" };
    const outside = { path: "../outside.txt", content: "x\n" };
    fake.enqueue(
      { toolCalls: [{ name: "write_file", arguments: write }] },
      { toolCalls: [{ name: "bash", arguments: bash }] },
      { toolCalls: [{ name: "write_file", arguments: outside }] },
      { text: "Done." },
    );
    const url = `/api/orgs/${slug}/projects/${project.slug}/chats/${chat}`;
    expect((await dev.client.post(`${url}/messages`, { content: "write notes" })).statusCode).toBe(202);
    const answer = await untilFinished(url);
    expect(answer.status).toBe("completed");
    const tools = answer.parts.flatMap((p) => (p.type === "tool" ? [p] : []));
    expect(tools.map((t) => [t.toolName, t.state])).toEqual([
      ["write_file", "done"],
      ["bash", "done"],
      ["write_file", "error"],
    ]);

    const calls = (await auditEvents("action=agent.tool_call"))
      .filter((e) => e.target?.id === chat)
      .reverse();
    expect(calls).toHaveLength(3);
    for (const [i, args] of [write, bash, outside].entries()) {
      expect(calls[i]).toMatchObject({
        action: "agent.tool_call",
        actor: { type: "agent", userId: dev.user.id, email: dev.user.email },
        projectId: project.id,
        target: { type: "chat", id: chat },
        data: {
          tool: tools[i]!.toolName,
          toolCallId: tools[i]!.toolCallId,
          argsDigest: digestOf(args),
          outcome: ["ok", "ok", "error"][i],
          messageId: answer.id,
          source: "chat",
        },
      });
    }

    // One agent.model_call per llm_calls row of the turn, named by its id.
    await kiln.services.llm.calls.flush();
    const rows: LlmCall[] = (
      await owner.client.get(`/api/orgs/${slug}/llm/calls?chatId=${chat}&limit=50`)
    ).json().calls;
    expect(rows).toHaveLength(4);
    const models = (await auditEvents("action=agent.model_call")).filter((e) => e.data.chatId === chat);
    expect(models.map((e) => e.data.llmCallId).sort()).toEqual(rows.map((r) => r.id).sort());
    for (const e of models) {
      const row = rows.find((r) => r.id === e.data.llmCallId)!;
      expect(e).toMatchObject({
        actor: { type: "agent", userId: dev.user.id, email: dev.user.email },
        projectId: project.id,
        target: { type: "llm_call", id: row.id },
        data: {
          model: row.model,
          provider: row.provider,
          source: "chat",
          outcome: "ok",
          inputTokens: row.inputTokens,
          outputTokens: row.outputTokens,
          messageId: answer.id,
        },
      });
    }

    // The export holds digests, never what the agent wrote or ran.
    const jsonl = await owner.client.get(`${audit}.jsonl?action=agent`);
    expect(jsonl.statusCode).toBe(200);
    expect(jsonl.body).toContain(digestOf(write));
    expect(jsonl.body).not.toContain(SECRET_CONTENT);
    expect(jsonl.body).not.toContain("wc -c");
    // The actor filter finds what agents did for the developer.
    const forDev = await auditEvents(`actor=${dev.user.id}&action=agent.tool_call`);
    expect(forDev.filter((e) => e.target?.id === chat)).toHaveLength(3);
  }, 90_000);

  it("a call the user rejects is denied", async () => {
    const project = await newProject();
    const chat: string = (
      await dev.client.post(`/api/orgs/${slug}/projects/${project.slug}/chats`, { mode: "ask" })
    ).json().id;
    const args = { path: "rejected.txt", content: "no\n" };
    fake.enqueue({ toolCalls: [{ name: "write_file", arguments: args }] }, { text: "ok" });
    const url = `/api/orgs/${slug}/projects/${project.slug}/chats/${chat}`;
    await dev.client.post(`${url}/messages`, { content: "write" });
    let toolCallId: string | undefined;
    for (let i = 0; i < 300 && !toolCallId; i++) {
      const last = (await dev.client.get(url)).json().messages.at(-1) as ChatMessage;
      const waiting = last.parts.find((p) => p.type === "tool" && p.state === "awaiting-approval");
      if (waiting?.type === "tool") toolCallId = waiting.toolCallId;
      else await new Promise((r) => setTimeout(r, 50));
    }
    expect(toolCallId).toBeDefined();
    const decided = await dev.client.post(`${url}/approvals`, { toolCallId, decision: "reject" });
    expect(decided.statusCode).toBe(200);
    expect((await untilFinished(url)).status).toBe("completed");
    const calls = (await auditEvents("action=agent.tool_call")).filter((e) => e.target?.id === chat);
    expect(calls).toEqual([
      expect.objectContaining({
        data: expect.objectContaining({
          tool: "write_file",
          toolCallId,
          argsDigest: digestOf(args),
          outcome: "denied",
        }),
      }),
    ]);
  }, 60_000);
});

describe("a board job's tool and model calls", () => {
  it("records the worker's tool calls and the job's model calls for the person who started the job", async () => {
    const project = await newProject();
    const workerToken = (await owner.client.post(`/api/orgs/${slug}/workers/tokens`, { name: "ci" })).json()
      .token;
    const w = await TestWorker.connect(`${base.replace("http", "ws")}/api/workers/socket`, workerToken);
    try {
      await w.register();
      const started = await dev.client.post(`/api/orgs/${slug}/projects/${project.slug}/jobs`, {
        kind: "implement",
        instructions: "build it",
      });
      expect(started.statusCode).toBe(201);
      const jobId: string = started.json().id;
      const pushed = await w.waitFor("job", (m) => m.job.id === jobId);
      const agent = (event: AgentEvent) =>
        w.send({ type: "job-event", jobId, attempt: 1, event: { type: "agent", event } });
      const messageId = "job-turn-1";
      const okArgs = { path: "src/app.ts", content: `${SECRET_CONTENT}\n` };
      const badArgs = { command: "false" };
      // One call's start and end in one burst, the other's end reported later (another batch).
      agent({ type: "tool-call-start", messageId, toolCallId: "c1", toolName: "write_file", input: okArgs });
      agent({
        type: "tool-call-end",
        messageId,
        toolCallId: "c1",
        toolName: "write_file",
        output: "wrote",
        isError: false,
        durationMs: 3,
      });
      agent({ type: "tool-call-start", messageId, toolCallId: "c2", toolName: "bash", input: badArgs });
      const ofJob = async () =>
        (await auditEvents("action=agent.tool_call")).filter((e) => e.target?.id === jobId).reverse();
      await expect.poll(async () => (await ofJob()).length).toBe(1);
      agent({
        type: "tool-call-end",
        messageId,
        toolCallId: "c2",
        toolName: "bash",
        output: "exit 1",
        isError: true,
        durationMs: 5,
      });
      await expect.poll(async () => (await ofJob()).length).toBe(2);
      const recorded = await ofJob();
      for (const [i, [tool, args, outcome]] of [
        ["write_file", okArgs, "ok"],
        ["bash", badArgs, "error"],
      ].entries()) {
        expect(recorded[i]).toMatchObject({
          actor: { type: "agent", userId: dev.user.id, email: dev.user.email },
          projectId: project.id,
          target: { type: "job", id: jobId },
          data: {
            tool,
            toolCallId: `c${i + 1}`,
            argsDigest: digestOf(args),
            outcome,
            messageId,
            source: "job",
            jobId,
          },
        });
      }

      // A call whose start this server never saw (another replica, a restart): its digest is read back.
      const [row] = await kiln.database.db.select().from(jobs).where(eq(jobs.id, jobId));
      const late = await kiln.database.transaction((tx) =>
        new JobToolAudit().entries(tx, row!, [
          {
            type: "agent",
            event: {
              type: "tool-call-end",
              messageId,
              toolCallId: "c2",
              toolName: "bash",
              output: "exit 1",
              isError: true,
              durationMs: 5,
            },
          },
        ]),
      );
      expect(late).toMatchObject([
        { data: { toolCallId: "c2", argsDigest: digestOf(badArgs), outcome: "error" } },
      ]);

      // The job's model call through the proxy, with its job token: the agent, for the job's requester.
      fake.enqueue({ text: "hello from the job" });
      const proxied = await fetch(`${base}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${pushed.jobToken}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "openai/fake-model", messages: [{ role: "user", content: "hi" }] }),
      });
      expect(proxied.status).toBe(200);
      await kiln.services.llm.calls.flush();
      const jobCalls = (await auditEvents("action=agent.model_call")).filter((e) => e.data.jobId === jobId);
      expect(jobCalls).toEqual([
        expect.objectContaining({
          actor: { type: "agent", userId: dev.user.id, email: dev.user.email },
          projectId: project.id,
          data: expect.objectContaining({
            source: "job",
            model: "fake-model",
            provider: "openai",
            outcome: "ok",
          }),
        }),
      ]);
      // The job's calls stay the org's, not the requester's (ADR 0029): its llm_calls row has no user.
      const llmRows: LlmCall[] = (await owner.client.get(`/api/orgs/${slug}/llm/calls?limit=50`)).json()
        .calls;
      const jobRow = llmRows.find((r) => r.id === jobCalls[0]!.data.llmCallId);
      expect(jobRow).toMatchObject({ jobId, userId: null });

      const jsonl = await owner.client.get(`${audit}.jsonl?action=agent`);
      expect(jsonl.body).not.toContain(SECRET_CONTENT);
      w.send({
        type: "complete",
        jobId,
        attempt: 1,
        result: { summary: "done", branch: pushed.branch, commit: "b".repeat(40) },
      });
      await w.waitFor("ack", (m) => m.jobId === jobId);
    } finally {
      await w.terminate();
    }
  }, 90_000);

  it("a person's own call through the proxy is theirs (actor user)", async () => {
    const token = (await dev.client.post("/api/auth/tokens", { name: "cli" })).json().token;
    fake.enqueue({ text: "hi" });
    const res = await fetch(`${base}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json", "x-kiln-org": slug },
      body: JSON.stringify({ model: "openai/fake-model", messages: [{ role: "user", content: "hi" }] }),
    });
    expect(res.status).toBe(200);
    await kiln.services.llm.calls.flush();
    const proxied = (await auditEvents("action=agent.model_call")).filter((e) => e.data.source === "proxy");
    expect(proxied).toEqual([
      expect.objectContaining({
        actor: { type: "user", userId: dev.user.id, email: dev.user.email },
        target: expect.objectContaining({ type: "llm_call" }),
        data: expect.objectContaining({ source: "proxy", outcome: "ok" }),
      }),
    ]);
  }, 30_000);
});
