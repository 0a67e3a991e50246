import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type TestWorkspace, tempWorkspace } from "./testing/harness.ts";
import { type LoopHarness, sentMessages, startLoopHarness } from "./testing/loop-harness.ts";

let h: LoopHarness;
let t: TestWorkspace;

beforeAll(async () => {
  h = await startLoopHarness();
  t = await tempWorkspace({ "a.txt": "alpha\n" });
});
afterAll(async () => {
  await h.close();
  await t.dispose();
});
beforeEach(() => h.fake.reset());

describe("runAgent when things go wrong", () => {
  it("cancels mid-stream: the stream is dropped and message-end still comes last", async () => {
    h.fake.enqueue({ text: "a long answer that streams slowly", chunkSize: 2, delayMs: 20 });
    const controller = new AbortController();
    const { result, events } = await h.run({
      workspace: t.workspace,
      signal: controller.signal,
      onEvent: (e) => {
        if (e.type === "text-delta") controller.abort();
      },
    });
    expect(result).toMatchObject({ status: "cancelled", reason: "cancelled", messages: [] });
    expect(events.at(-1)).toMatchObject({ type: "message-end", status: "cancelled" });
    expect(events.filter((e) => e.type === "message-end")).toHaveLength(1);
  });

  it("cancels while waiting for a model that never answers", async () => {
    const controller = new AbortController();
    // Abort only once the request has arrived, so it cannot reach the server after the next test started.
    h.fake.setResponder(() => {
      setTimeout(() => controller.abort(), 10);
      return { hang: true };
    });
    const { result } = await h.run({ workspace: t.workspace, signal: controller.signal });
    expect(result.status).toBe("cancelled");
  });

  it("cancels mid-tool: the running command is stopped and the result says so", async () => {
    h.fake.enqueue({ toolCalls: [{ id: "slow", name: "bash", arguments: { command: "sleep 30" } }] });
    const controller = new AbortController();
    const { result, events } = await h.run({
      workspace: t.workspace,
      signal: controller.signal,
      onEvent: (e) => {
        if (e.type === "tool-call-start") setTimeout(() => controller.abort(), 30);
      },
    });
    expect(result.status).toBe("cancelled");
    expect(events.find((e) => e.type === "tool-call-end")).toMatchObject({
      toolCallId: "slow",
      isError: true,
      output: "Cancelled by the user.",
    });
    // The history stays valid for the next turn: the call has its result.
    expect(result.messages.map((m) => m.role)).toEqual(["assistant", "tool"]);
    expect(events.at(-1)).toMatchObject({ type: "message-end", reason: "cancelled" });
  });

  it("retries a 429 and carries on", async () => {
    h.fake.enqueue({ error: { status: 429, retryAfterSeconds: 0 } }, { text: "ok after retry" });
    const { result } = await h.run({ workspace: t.workspace, maxRetries: 2 });
    expect(result).toMatchObject({ status: "completed", reason: "done" });
    expect(h.fake.requests).toHaveLength(2);
  });

  it("fails with model_error on a 500 (no retries left)", async () => {
    h.fake.enqueue({ error: { status: 500, message: "upstream exploded" } });
    const { result, events } = await h.run({ workspace: t.workspace });
    expect(result).toMatchObject({ status: "failed", reason: "model_error" });
    expect(result.detail).toContain("HTTP 500");
    expect(result.detail).toContain("upstream exploded");
    expect(events.at(-1)).toMatchObject({
      type: "message-end",
      reason: "model_error",
      detail: result.detail,
    });
  });

  it("gives up after the SDK's retries and says how often it tried", async () => {
    h.fake.enqueue({ repeat: { error: { status: 503, retryAfterSeconds: 0 } } });
    const { result } = await h.run({ workspace: t.workspace, maxRetries: 2 });
    expect(result.reason).toBe("model_error");
    expect(result.detail).toContain("gave up after 3 attempts");
    expect(h.fake.requests).toHaveLength(3);
  });

  it("fails with detail when the stream is cut mid-way", async () => {
    h.fake.enqueue({ cutAfterChunks: 3, reply: { text: "this answer will never finish streaming" } });
    const { result, events } = await h.run({ workspace: t.workspace });
    expect(result).toMatchObject({ status: "failed", reason: "model_error" });
    expect(result.detail).toContain("response broke off before it finished");
    expect(events.at(-1)).toMatchObject({ type: "message-end", status: "failed" });
  });

  it("fails with detail when the provider streams an error", async () => {
    h.fake.enqueue({
      errorAfterChunks: 2,
      error: { message: "overloaded right now" },
      reply: { text: "partial answer here" },
    });
    const { result } = await h.run({ workspace: t.workspace });
    expect(result).toMatchObject({ status: "failed", reason: "model_error" });
    expect(result.detail).toContain("overloaded right now");
  });

  it("fails cleanly when a tool call is cut off before its arguments finish", async () => {
    h.fake.enqueue({
      cutAfterChunks: 4,
      reply: {
        toolCalls: [{ name: "write_file", arguments: { path: "x.txt", content: "y".repeat(200) } }],
        chunkSize: 10,
      },
    });
    const { result, events } = await h.run({ workspace: t.workspace });
    expect(result.status).toBe("failed");
    expect(events.some((e) => e.type === "tool-call-end")).toBe(false);
  });
});

describe("runAgent compaction", () => {
  it("summarises older messages when the prompt nears the context window, keeping the last turns", async () => {
    const history = [];
    for (let i = 0; i < 6; i++) {
      history.push({ role: "user" as const, content: `request ${i} ${"x".repeat(1500)}` });
      history.push({ role: "assistant" as const, content: `answer ${i} ${"y".repeat(1500)}` });
    }
    history.push({ role: "user" as const, content: "Now add a footer." });
    h.fake.setResponder((request) => {
      const text = JSON.stringify(request.body);
      return text.includes("Summarise this conversation")
        ? { text: "SUMMARY: requests 0-5 answered." }
        : { text: "Footer added." };
    });
    const { result, events } = await h.run({
      workspace: t.workspace,
      messages: history,
      contextWindow: 6000,
    });
    expect(result).toMatchObject({ status: "completed", reason: "done" });
    const compaction = events.find((e) => e.type === "compaction");
    expect(compaction).toMatchObject({ type: "compaction" });
    expect(compaction?.type === "compaction" && compaction.summary).toContain(
      "SUMMARY: requests 0-5 answered.",
    );
    expect(compaction?.type === "compaction" && compaction.removedMessages).toBeGreaterThan(5);
    expect(
      events.filter((e) => e.type === "step-finish").map((e) => e.type === "step-finish" && e.finishReason),
    ).toEqual(["compaction", "stop"]);
    const sent = sentMessages(h.fake, 1);
    expect(sent[1]?.content).toMatch(/^\[Earlier conversation, summarised to save context\]/);
    expect(sent.at(-1)).toEqual({ role: "user", content: "Now add a footer." });
    expect(JSON.stringify(sent).length).toBeLessThan(6000 * 4 * 0.8);
  });

  it("fails with model_error when the summary call fails", async () => {
    h.fake.enqueue({ error: { status: 500 } });
    const messages = [
      { role: "user" as const, content: "x".repeat(8000) },
      { role: "assistant" as const, content: "y".repeat(8000) },
      { role: "user" as const, content: "go" },
    ];
    const { result } = await h.run({ workspace: t.workspace, messages, contextWindow: 3000 });
    expect(result.reason).toBe("model_error");
    expect(result.detail).toMatch(/^compacting the conversation failed/);
  });

  it("stops with context_overflow when even the latest message does not fit", async () => {
    h.fake.enqueue({ text: "summary" });
    const messages = [
      { role: "user" as const, content: "earlier" },
      { role: "assistant" as const, content: "ok" },
      { role: "user" as const, content: "z".repeat(20_000) },
    ];
    const { result } = await h.run({ workspace: t.workspace, messages, contextWindow: 3000 });
    expect(result).toMatchObject({ status: "failed", reason: "context_overflow" });
  });
});
