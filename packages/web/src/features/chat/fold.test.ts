import type { AgentEvent, ChatMessage, ChatWithMessages, LlmCall } from "@kiln/protocol";
import { describe, expect, it } from "vitest";
import { applyRunEvent, blankRun, runningMessage, withMessage } from "./fold.ts";
import { costsByMessage } from "./queries.ts";

const now = "2025-01-01T00:00:00.000Z";

function message(patch: Partial<ChatMessage> = {}): ChatMessage {
  return {
    id: "a1",
    chatId: "c1",
    role: "assistant",
    parts: [],
    status: "running",
    reason: null,
    detail: null,
    model: null,
    usage: null,
    checkpointSha: null,
    agentId: null,
    agentVersion: null,
    createdBy: null,
    createdAt: now,
    updatedAt: now,
    ...patch,
  };
}

const usage = (i: number, o: number) => ({ inputTokens: i, outputTokens: o, cachedInputTokens: 0 });

describe("applyRunEvent", () => {
  it("folds a whole turn into parts, usage, checkpoint and outcome", () => {
    const events: AgentEvent[] = [
      { type: "message-start", messageId: "a1", model: "openai/fake-model" },
      { type: "text-delta", messageId: "a1", delta: "Let me " },
      { type: "text-delta", messageId: "a1", delta: "look." },
      {
        type: "tool-call-start",
        messageId: "a1",
        toolCallId: "t1",
        toolName: "write_file",
        input: { path: "a" },
      },
      {
        type: "approval-request",
        messageId: "a1",
        toolCallId: "t1",
        toolName: "write_file",
        input: {},
        expiresAt: now,
      },
      { type: "approval-resolved", messageId: "a1", toolCallId: "t1", decision: "approve" },
      {
        type: "tool-call-end",
        messageId: "a1",
        toolCallId: "t1",
        toolName: "write_file",
        output: "ok",
        metadata: { diff: "+x" },
        isError: false,
        durationMs: 12,
      },
      { type: "step-finish", messageId: "a1", usage: usage(10, 5), finishReason: "tool-calls" },
      { type: "step-finish", messageId: "a1", usage: usage(20, 7), finishReason: "stop" },
      { type: "checkpoint", messageId: "a1", sha: "abc1234", filesChanged: 1 },
      { type: "message-end", messageId: "a1", usage: usage(30, 12), status: "completed", reason: "done" },
    ];
    let m = message();
    const live: Array<number | undefined> = [];
    for (const e of events) {
      m = applyRunEvent(m, e);
      live.push(m.usage?.inputTokens);
    }
    expect(live.slice(7, 9)).toEqual([10, 30]);
    expect(m.model).toBe("openai/fake-model");
    expect(m.checkpointSha).toBe("abc1234");
    expect(m.status).toBe("completed");
    expect(m.usage).toEqual(usage(30, 12));
    expect(m.parts).toEqual([
      { type: "text", text: "Let me look." },
      {
        type: "tool",
        toolCallId: "t1",
        toolName: "write_file",
        input: { path: "a" },
        state: "done",
        output: "ok",
        metadata: { diff: "+x" },
        durationMs: 12,
        expiresAt: undefined,
      },
    ]);
  });

  it("shows a call while the model writes it and runs it in the same place", () => {
    const fold = (events: AgentEvent[], from = message()) => events.reduce(applyRunEvent, from);
    const writing = fold([
      { type: "text-delta", messageId: "a1", delta: "Writing." },
      { type: "tool-input-start", messageId: "a1", toolCallId: "t1", toolName: "write_file" },
    ]);
    expect(writing.parts[1]).toEqual({
      type: "tool",
      toolCallId: "t1",
      toolName: "write_file",
      input: {},
      state: "writing",
    });
    const known = fold(
      [
        {
          type: "tool-input-progress",
          messageId: "a1",
          toolCallId: "t1",
          chars: 40,
          input: { path: "src/App.tsx" },
        },
      ],
      writing,
    );
    expect(known.parts[1]).toMatchObject({
      state: "writing",
      input: { path: "src/App.tsx" },
      inputChars: 40,
    });
    const running = fold(
      [
        { type: "text-delta", messageId: "a1", delta: " More." },
        {
          type: "tool-call-start",
          messageId: "a1",
          toolCallId: "t1",
          toolName: "write_file",
          input: { path: "src/App.tsx", content: "x" },
        },
      ],
      known,
    );
    expect(running.parts.map((p) => p.type)).toEqual(["text", "tool", "text"]);
    expect(running.parts[1]).toEqual({
      type: "tool",
      toolCallId: "t1",
      toolName: "write_file",
      input: { path: "src/App.tsx", content: "x" },
      state: "running",
    });
  });

  it("marks a call the model never finished writing as not run when the turn stops", () => {
    const stopped = (
      [
        { type: "tool-input-start", messageId: "a1", toolCallId: "t1", toolName: "bash" },
        {
          type: "message-end",
          messageId: "a1",
          usage: usage(1, 1),
          status: "cancelled",
          reason: "cancelled",
        },
      ] as AgentEvent[]
    ).reduce(applyRunEvent, message());
    expect(stopped.parts[0]).toMatchObject({ state: "error", output: "not run: cancelled" });
  });

  it("does not change the message it is given", () => {
    const m = message({ parts: [{ type: "text", text: "a" }] });
    applyRunEvent(m, { type: "text-delta", messageId: "a1", delta: "b" });
    expect(m.parts).toEqual([{ type: "text", text: "a" }]);
  });

  it("keeps the detail of a stopped turn", () => {
    const m = applyRunEvent(message(), {
      type: "message-end",
      messageId: "a1",
      usage: usage(1, 1),
      status: "failed",
      reason: "model_error",
      detail: "provider said no",
    });
    expect([m.status, m.reason, m.detail]).toEqual(["failed", "model_error", "provider said no"]);
  });
});

describe("withMessage", () => {
  const chat = (messages: ChatMessage[]): ChatWithMessages => ({
    id: "c1",
    projectId: "p1",
    title: "t",
    mode: "allow",
    model: null,
    approveAll: false,
    agentId: "00000000-0000-4000-8000-00000000a9e7",
    agentVersion: 1,
    runningMessageId: null,
    createdBy: null,
    createdAt: now,
    updatedAt: now,
    messages,
  });

  it("appends new messages, replaces known ones and tracks the running one", () => {
    const user = message({ id: "u1", role: "user", status: "complete" });
    let c = withMessage(chat([user]), message());
    expect(c.messages.map((m) => m.id)).toEqual(["u1", "a1"]);
    expect(c.runningMessageId).toBe("a1");
    expect(runningMessage(c)?.id).toBe("a1");
    c = withMessage(c, message({ status: "completed" }));
    expect(c.messages).toHaveLength(2);
    expect(c.runningMessageId).toBeNull();
    expect(runningMessage(c)).toBeUndefined();
  });

  it("starts a replay from an empty running message", () => {
    const m = blankRun(
      message({ parts: [{ type: "text", text: "x" }], usage: usage(1, 1), status: "failed" }),
    );
    expect([m.parts, m.usage, m.status]).toEqual([[], null, "running"]);
  });
});

describe("costsByMessage", () => {
  const call = (messageId: string | null, costUsd: number | null) => ({ messageId, costUsd }) as LlmCall;

  it("sums per message; one unpriced call makes the message's cost unknown", () => {
    const costs = costsByMessage([
      call("m1", 0.5),
      call("m1", 0.25),
      call("m2", null),
      call("m2", 1),
      call(null, 9),
    ]);
    expect(costs.byMessage.get("m1")).toBe(0.75);
    expect(costs.byMessage.get("m2")).toBeNull();
    expect(costs.total).toBe(1.75);
  });

  it("has no total when nothing has a price", () => {
    expect(costsByMessage([call("m1", null)]).total).toBeNull();
  });
});
