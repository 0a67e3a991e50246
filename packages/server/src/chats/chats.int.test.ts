import type { AddressInfo } from "node:net";
import { type FakeProvider, startFakeProvider } from "@kiln/fake-provider";
import type { ChatMessage, RunEvent } from "@kiln/protocol";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { TestClient } from "../testing/client.ts";
import { type SignedUp, startTestKiln, type TestKiln, uniqueSlug } from "../testing/harness.ts";
import { previewSession, untilPreviewServes } from "../testing/preview.ts";
import { readSse } from "../testing/sse.ts";

let fake: FakeProvider;
let kiln: TestKiln;
let port: number;
let owner: SignedUp;
let org: string;

beforeAll(async () => {
  fake = await startFakeProvider();
  kiln = await startTestKiln({
    env: {
      OPENAI_BASE_URL: `${fake.url}/v1`,
      OPENAI_API_KEY: "fake-key",
      KILN_MODEL: "openai/fake-model",
      KILN_APPROVAL_TIMEOUT_SECONDS: "3",
      KILN_LLM_RETRY_BASE_MS: "10",
    },
  });
  await kiln.app.listen({ port: 0, host: "127.0.0.1" });
  port = (kiln.app.server.address() as AddressInfo).port;
  owner = await kiln.signup();
  org = uniqueSlug("org");
  await owner.client.post("/api/orgs", { name: "Chats", slug: org });
}, 120_000);

afterAll(async () => {
  await kiln?.stop();
  await fake?.close();
});

beforeEach(() => fake.reset());

function browserHeaders(client: TestClient): Record<string, string> {
  return {
    cookie: [...client.cookies].map(([k, v]) => `${k}=${v.value}`).join("; "),
    ...(client.csrf ? { "x-csrf-token": client.csrf } : {}),
  };
}

async function newProject(template = "static"): Promise<string> {
  const res = await owner.client.post(`/api/orgs/${org}/projects`, { name: "Agent app", template });
  expect(res.statusCode).toBe(201);
  return res.json().slug;
}

async function newChat(project: string, body: Record<string, unknown> = {}): Promise<string> {
  const res = await owner.client.post(`/api/orgs/${org}/projects/${project}/chats`, body);
  expect(res.statusCode).toBe(201);
  return res.json().id;
}

/** Sends a message over SSE, as the studio does, and reads the turn to its end. */
async function sendStreaming(project: string, chat: string, content: string, extra: object = {}) {
  const res = await readSse(
    `http://127.0.0.1:${port}/api/orgs/${org}/projects/${project}/chats/${chat}/messages`,
    {
      method: "POST",
      headers: browserHeaders(owner.client),
      body: { content, ...extra },
      timeoutMs: 90_000,
    },
  );
  expect(res.status).toBe(200);
  const events = res.events.map((e) => e.data as RunEvent);
  return { events, ended: res.ended, ids: res.events.map((e) => e.id) };
}

async function untilFinished(project: string, chat: string): Promise<ChatMessage> {
  const end = Date.now() + 60_000;
  while (Date.now() < end) {
    const res = await owner.client.get(`/api/orgs/${org}/projects/${project}/chats/${chat}`);
    const last = res.json().messages.at(-1) as ChatMessage;
    if (last.status !== "running") return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("turn did not finish");
}

async function readFile(project: string, path: string): Promise<{ status: number; content?: string }> {
  const res = await owner.client.get(`/api/orgs/${org}/projects/${project}/files/content?path=${path}`);
  return { status: res.statusCode, content: res.statusCode === 200 ? res.json().content : undefined };
}

describe("a scripted model builds an app in the sandbox", () => {
  it("writes, runs, edits; the preview serves it; history, log and undo work", async () => {
    const project = await newProject();
    const original = (await readFile(project, "index.html")).content!;
    const chat = await newChat(project);
    fake.enqueue(
      {
        text: "I'll build it.",
        toolCalls: [
          {
            name: "write_file",
            arguments: { path: "index.html", content: "<!doctype html><h1>Built by the agent</h1>\n" },
          },
        ],
      },
      { toolCalls: [{ name: "bash", arguments: { command: "ls && head -c 40 index.html && id -u" } }] },
      {
        toolCalls: [
          {
            name: "edit_file",
            arguments: {
              path: "index.html",
              old_string: "Built by the agent",
              new_string: "Built and edited",
            },
          },
        ],
      },
      { text: "Done: the page now says **Built and edited**." },
    );
    const { events, ended, ids } = await sendStreaming(project, chat, "Build me a page");
    expect(ended).toBe(true);
    const types = events.map((e) => e.event.type);
    expect(types[0]).toBe("message-start");
    expect(types.at(-1)).toBe("message-end");
    expect(types).toContain("text-delta");
    expect(types.filter((t) => t === "tool-call-end")).toHaveLength(3);
    expect(types.indexOf("checkpoint")).toBe(types.length - 2);
    expect(ids).toEqual(events.map((e) => e.seq));
    expect(ids).toEqual([...ids].sort((a, b) => (a ?? 0) - (b ?? 0)));

    const bash = events.find((e) => e.event.type === "tool-call-end" && e.event.toolName === "bash")!.event;
    if (bash.type !== "tool-call-end") throw new Error("unreachable");
    expect(bash.isError).toBe(false);
    expect(bash.output).toContain("index.html");
    expect(bash.output).toContain("Built by the agent");
    // Commands run as the project's sandbox user, never as the server's root.
    expect(bash.output).not.toMatch(/^0$/m);

    // Persisted: the chat's messages with their parts.
    const stored = (await owner.client.get(`/api/orgs/${org}/projects/${project}/chats/${chat}`)).json();
    expect(stored.title).toBe("Build me a page");
    expect(stored.runningMessageId).toBeNull();
    const [user, assistant] = stored.messages as ChatMessage[];
    expect(user).toMatchObject({
      role: "user",
      status: "complete",
      parts: [{ type: "text", text: "Build me a page" }],
    });
    expect(assistant).toMatchObject({
      role: "assistant",
      status: "completed",
      reason: "done",
      model: "openai/fake-model",
    });
    const tools = assistant!.parts.filter((p) => p.type === "tool");
    expect(tools.map((p) => p.type === "tool" && [p.toolName, p.state])).toEqual([
      ["write_file", "done"],
      ["bash", "done"],
      ["edit_file", "done"],
    ]);
    expect(assistant!.parts.at(-1)).toMatchObject({
      type: "text",
      text: expect.stringContaining("Built and edited"),
    });
    expect(assistant!.usage!.inputTokens).toBeGreaterThan(0);
    expect(assistant!.checkpointSha).toMatch(/^[0-9a-f]{40}$/);

    // The model saw the tool results: the request after bash carried its output.
    const lastRequest = JSON.stringify(fake.requests.at(-1)!.body);
    expect(lastRequest).toContain("Built by the agent");

    // The preview serves what the agent wrote.
    const { host, cookie } = await previewSession(owner.client, port, org, project);
    await untilPreviewServes(port, host, cookie, "Built and edited");

    // Every model call is in the LLM log, attributed to this chat.
    await kiln.services.llm.calls.flush();
    const calls = (await owner.client.get(`/api/orgs/${org}/llm/calls?chatId=${chat}`)).json().calls;
    expect(calls).toHaveLength(4);
    expect(calls.every((c: { status: string }) => c.status === "ok")).toBe(true);

    // The checkpoint is in the project's history, and undoing the turn restores the files.
    const history = (await owner.client.get(`/api/orgs/${org}/projects/${project}/history`)).json();
    expect(history.checkpoints[0]).toMatchObject({ sha: assistant!.checkpointSha, messageId: assistant!.id });
    const undo = await owner.client.post(`/api/orgs/${org}/projects/${project}/undo`, {
      messageId: assistant!.id,
    });
    expect(undo.statusCode).toBe(200);
    expect((await readFile(project, "index.html")).content).toBe(original);
    await untilPreviewServes(port, host, cookie, "Hello, static web");
  }, 120_000);
});

describe("tools through the project workspace", () => {
  it("take the root and /workspace paths the way models write them, and refuse escapes", async () => {
    const project = await newProject();
    const chat = await newChat(project);
    fake.enqueue(
      {
        toolCalls: [
          { name: "list_files", arguments: { path: "." } },
          { name: "read_file", arguments: { path: "/workspace/index.html" } },
          { name: "read_file", arguments: { path: "../../etc/passwd" } },
          { name: "read_file", arguments: { path: "/etc/shadow" } },
        ],
      },
      { text: "ok" },
    );
    const { events } = await sendStreaming(project, chat, "look around");
    // Read-only calls run in parallel and may end in any order: line them up with the calls.
    const starts = events.flatMap((e) => (e.event.type === "tool-call-start" ? [e.event.toolCallId] : []));
    const results = events
      .flatMap((e) => (e.event.type === "tool-call-end" ? [e.event] : []))
      .sort((a, b) => starts.indexOf(a.toolCallId) - starts.indexOf(b.toolCallId));
    expect(results.map((r) => r.isError)).toEqual([false, false, true, true]);
    expect(results[0]!.output).toContain("index.html");
    expect(results[1]!.output).toContain("Hello, static web");
    expect(results[2]!.output + results[3]!.output).not.toContain("root:");
  }, 60_000);
});

describe("streams", () => {
  it("replays from Last-Event-ID and survives the browser going away", async () => {
    const project = await newProject();
    const chat = await newChat(project);
    fake.enqueue({ text: "one two three four five six seven eight nine ten", chunkSize: 4, delayMs: 30 });
    const sent = await owner.client.post(`/api/orgs/${org}/projects/${project}/chats/${chat}/messages`, {
      content: "count",
    });
    expect(sent.statusCode).toBe(202);
    const messageId = sent.json().assistantMessage.id;
    const url = `http://127.0.0.1:${port}/api/orgs/${org}/projects/${project}/chats/${chat}/messages/${messageId}/events`;
    // A tab that closes after a few events…
    const first = await readSse(url, { headers: browserHeaders(owner.client), until: (e) => e.length >= 3 });
    expect(first.ended).toBe(false);
    const lastSeen = first.events.at(-1)!.id!;
    // …and comes back: it gets only what came after, through to the end.
    const rest = await readSse(url, {
      headers: { ...browserHeaders(owner.client), "last-event-id": String(lastSeen) },
    });
    expect(rest.ended).toBe(true);
    expect(rest.events[0]!.id).toBe(lastSeen + 1);
    const all = [...first.events, ...rest.events].map((e) => e.data as RunEvent);
    const text = all.map((e) => (e.event.type === "text-delta" ? e.event.delta : "")).join("");
    expect(text).toBe("one two three four five six seven eight nine ten");
    // The JSON form gives the stored log.
    const json = await owner.client.get(
      `/api/orgs/${org}/projects/${project}/chats/${chat}/messages/${messageId}/events?after=0`,
    );
    expect(json.json().map((e: RunEvent) => e.seq)).toEqual(all.map((e) => e.seq));
  }, 60_000);

  it("cancels a turn mid-stream and refuses a second turn while one runs", async () => {
    const project = await newProject();
    const chat = await newChat(project);
    fake.enqueue({ text: "x".repeat(400), chunkSize: 2, delayMs: 20 });
    const base = `/api/orgs/${org}/projects/${project}/chats/${chat}`;
    expect((await owner.client.post(`${base}/messages`, { content: "long" })).statusCode).toBe(202);
    const busy = await owner.client.post(`${base}/messages`, { content: "again" });
    expect(busy.statusCode).toBe(409);
    expect(busy.json().error.code).toBe("chat_busy");
    await new Promise((r) => setTimeout(r, 200));
    const cancelled = await owner.client.post(`${base}/cancel`);
    expect(cancelled.statusCode).toBe(200);
    const last = await untilFinished(project, chat);
    expect(last).toMatchObject({ status: "cancelled", reason: "cancelled" });
    const text = last.parts.find((p) => p.type === "text");
    expect(text && text.type === "text" && text.text.length).toBeLessThan(400);
    expect((await owner.client.post(`${base}/cancel`)).json().error.code).toBe("run_not_active");
    // The chat takes the next message.
    fake.enqueue({ text: "ok" });
    expect((await owner.client.post(`${base}/messages`, { content: "short" })).statusCode).toBe(202);
    expect((await untilFinished(project, chat)).status).toBe("completed");
  }, 60_000);

  it("a retried 429 shows in the turn as a model-retry event and a retry part, then the answer", async () => {
    const project = await newProject();
    const chat = await newChat(project);
    fake.enqueue(
      { error: { status: 429, message: "slow down", retryAfterSeconds: 0.05 } },
      { text: "through" },
    );
    const { events } = await sendStreaming(project, chat, "hi");
    const retry = events.find((e) => e.event.type === "model-retry")?.event;
    expect(retry).toMatchObject({ retry: 1, maxRetries: 3, waitMs: 50, code: "provider_rate_limited" });
    const done = await untilFinished(project, chat);
    expect(done).toMatchObject({
      status: "completed",
      parts: [
        { type: "retry", retry: 1, code: "provider_rate_limited" },
        { type: "text", text: "through" },
      ],
    });
  }, 60_000);

  it("a provider failure ends the turn as failed with a reason, and it can be resumed", async () => {
    const project = await newProject();
    const chat = await newChat(project);
    fake.enqueue({ repeat: { error: { status: 500, message: "upstream exploded" } } });
    const { events } = await sendStreaming(project, chat, "hi");
    const end = events.at(-1)!.event;
    expect(end).toMatchObject({ type: "message-end", status: "failed", reason: "model_error" });
    fake.reset();
    fake.enqueue({ text: "recovered" });
    const failed = await untilFinished(project, chat);
    const base = `/api/orgs/${org}/projects/${project}/chats/${chat}`;
    const resumed = await owner.client.post(`${base}/messages/${failed.id}/resume`);
    expect(resumed.statusCode).toBe(202);
    expect(resumed.json().userMessage).toBeNull();
    const done = await untilFinished(project, chat);
    expect(done).toMatchObject({ status: "completed", parts: [{ type: "text", text: "recovered" }] });
    // Only the last answer can be resumed, and only when it did not complete.
    expect((await owner.client.post(`${base}/messages/${done.id}/resume`)).statusCode).toBe(409);
    expect((await owner.client.post(`${base}/messages/${failed.id}/resume`)).statusCode).toBe(409);
  }, 60_000);
});

describe("approvals", () => {
  const write = (path: string) => ({
    toolCalls: [{ name: "write_file", arguments: { path, content: "x\n" } }],
  });

  async function untilApprovalRequested(project: string, chat: string): Promise<string> {
    const end = Date.now() + 30_000;
    while (Date.now() < end) {
      const m = (await owner.client.get(`/api/orgs/${org}/projects/${project}/chats/${chat}`))
        .json()
        .messages.at(-1);
      const waiting = m.parts.find((p: { state?: string }) => p.state === "awaiting-approval");
      if (waiting) return waiting.toolCallId;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error("no approval request");
  }

  it("ask: waits, then runs on approve and skips on reject", async () => {
    const project = await newProject();
    const chat = await newChat(project, { mode: "ask" });
    const base = `/api/orgs/${org}/projects/${project}/chats/${chat}`;
    fake.enqueue(write("approved.txt"), write("rejected.txt"), { text: "done" });
    await owner.client.post(`${base}/messages`, { content: "write two files" });
    const first = await untilApprovalRequested(project, chat);
    expect((await readFile(project, "approved.txt")).status).toBe(404);
    // Wrong ids and garbage decisions are refused without touching the pending call.
    expect(
      (await owner.client.post(`${base}/approvals`, { toolCallId: "nope", decision: "approve" })).statusCode,
    ).toBe(404);
    expect(
      (await owner.client.post(`${base}/approvals`, { toolCallId: first, decision: "yes" })).statusCode,
    ).toBe(400);
    expect(
      (await owner.client.post(`${base}/approvals`, { toolCallId: first, decision: "approve" })).statusCode,
    ).toBe(200);
    const second = await untilApprovalRequested(project, chat);
    expect(second).not.toBe(first);
    expect(
      (await owner.client.post(`${base}/approvals`, { toolCallId: second, decision: "reject" })).statusCode,
    ).toBe(200);
    const last = await untilFinished(project, chat);
    expect(last.status).toBe("completed");
    expect((await readFile(project, "approved.txt")).status).toBe(200);
    expect((await readFile(project, "rejected.txt")).status).toBe(404);
    const states = last.parts.filter((p) => p.type === "tool").map((p) => p.type === "tool" && p.state);
    expect(states).toEqual(["done", "rejected"]);
  }, 60_000);

  it("ask: approve-all covers the rest of the chat; an unanswered call times out as rejected", async () => {
    const project = await newProject();
    const chat = await newChat(project, { mode: "ask" });
    const base = `/api/orgs/${org}/projects/${project}/chats/${chat}`;
    fake.enqueue(write("timeout.txt"), { text: "gave up" });
    await owner.client.post(`${base}/messages`, { content: "write" });
    await untilApprovalRequested(project, chat);
    const timedOut = await untilFinished(project, chat); // KILN_APPROVAL_TIMEOUT_SECONDS=3
    expect(timedOut.parts.find((p) => p.type === "tool")).toMatchObject({ state: "rejected" });
    expect((await readFile(project, "timeout.txt")).status).toBe(404);

    fake.enqueue(write("a.txt"), write("b.txt"), { text: "done" });
    await owner.client.post(`${base}/messages`, { content: "write more" });
    const id = await untilApprovalRequested(project, chat);
    const all = await owner.client.post(`${base}/approvals`, { toolCallId: id, decision: "approve-all" });
    expect(all.json().approveAll).toBe(true);
    expect((await untilFinished(project, chat)).status).toBe("completed");
    expect((await readFile(project, "a.txt")).status).toBe(200);
    expect((await readFile(project, "b.txt")).status).toBe(200);
  }, 60_000);

  it("plan: mutating tools are neither offered nor run, even when the model calls one", async () => {
    const project = await newProject();
    const chat = await newChat(project, { mode: "plan" });
    fake.enqueue(
      write("planned.txt"),
      { toolCalls: [{ name: "bash", arguments: { command: "touch bash-was-here" } }] },
      { text: "Here is the plan." },
    );
    const { events } = await sendStreaming(project, chat, "plan it");
    const offered = (fake.requests[0]!.body as { tools?: Array<{ function: { name: string } }> }).tools ?? [];
    const names = offered.map((t) => t.function.name);
    expect(names).toContain("read_file");
    expect(names).not.toContain("write_file");
    expect(names).not.toContain("bash");
    const results = events.flatMap((e) => (e.event.type === "tool-call-end" ? [e.event] : []));
    expect(results.every((r) => r.isError)).toBe(true);
    expect((await readFile(project, "planned.txt")).status).toBe(404);
    expect((await readFile(project, "bash-was-here")).status).toBe(404);
  }, 60_000);
});

describe("fix errors", () => {
  it("starts a turn with the preview's errors, or says there are none", async () => {
    const project = await newProject();
    const none = await owner.client.post(`/api/orgs/${org}/projects/${project}/fix-errors`, {});
    expect(none.statusCode).toBe(409);
    expect(none.json().error.code).toBe("no_preview_errors");
  });
});

describe("bad input and other orgs", () => {
  it("refuses garbage, foreign ids and other orgs' users", async () => {
    const project = await newProject();
    const chat = await newChat(project);
    const base = `/api/orgs/${org}/projects/${project}/chats`;
    for (const body of [
      {},
      { content: "" },
      { content: "   " },
      { content: 5 },
      { content: "x".repeat(100_001) },
      { content: "a", extra: 1 },
      { content: "a", mode: "yolo" },
      { content: "a", model: "../../etc" },
    ]) {
      const res = await owner.client.post(`${base}/${chat}/messages`, body);
      expect(res.statusCode, JSON.stringify(body).slice(0, 80)).toBe(400);
    }
    expect((await owner.client.get(`${base}/not-a-uuid`)).statusCode).toBe(400);
    const missing = await owner.client.get(`${base}/00000000-0000-4000-8000-000000000000`);
    expect(missing.json().error.code).toBe("chat_not_found");
    // A chat of one project is not reachable through another project of the same org.
    const other = await newProject();
    const crossed = await owner.client.get(`/api/orgs/${org}/projects/${other}/chats/${chat}`);
    expect(crossed.json().error.code).toBe("chat_not_found");
    // A user of another org sees nothing.
    const stranger = await kiln.signup();
    expect((await stranger.client.get(`${base}/${chat}`)).statusCode).toBe(404);
    expect((await stranger.client.post(`${base}/${chat}/messages`, { content: "hi" })).statusCode).toBe(404);
    // An unknown model is the sender's error, and stores nothing.
    const unknown = await owner.client.post(`${base}/${chat}/messages`, {
      content: "hi",
      model: "nope/model",
    });
    expect(unknown.statusCode).toBeGreaterThanOrEqual(400);
    expect(unknown.statusCode).toBeLessThan(500);
    expect((await owner.client.get(`${base}/${chat}`)).json().messages).toHaveLength(0);
  });
});
