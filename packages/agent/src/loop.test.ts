import { readFile, writeFile } from "node:fs/promises";
import nodePath from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { type TestWorkspace, tempWorkspace } from "./testing/harness.ts";
import { type LoopHarness, sentMessages, startLoopHarness } from "./testing/loop-harness.ts";
import { defineTool } from "./tool.ts";
import { createDefaultTools } from "./tools/index.ts";

let h: LoopHarness;
let t: TestWorkspace;

beforeAll(async () => {
  h = await startLoopHarness();
  t = await tempWorkspace();
});
afterAll(async () => {
  await h.close();
  await t.dispose();
});
beforeEach(async () => {
  h.fake.reset();
  await writeFile(nodePath.join(t.root, "a.txt"), "alpha\n");
});

describe("runAgent", () => {
  it("streams a text-only answer between message-start and message-end", async () => {
    h.fake.enqueue({ text: "Hello there, friend.", usage: { inputTokens: 10, outputTokens: 5 } });
    const { result, events } = await h.run({ workspace: t.workspace });
    expect(events[0]).toEqual({ type: "message-start", messageId: "msg_1", model: "fake-model" });
    expect(
      events
        .filter((e) => e.type === "text-delta")
        .map((e) => e.delta)
        .join(""),
    ).toBe("Hello there, friend.");
    expect(events.at(-2)).toMatchObject({
      type: "step-finish",
      usage: { inputTokens: 10, outputTokens: 5 },
      finishReason: "stop",
    });
    expect(events.at(-1)).toEqual({
      type: "message-end",
      messageId: "msg_1",
      usage: { inputTokens: 10, outputTokens: 5, cachedInputTokens: 0 },
      status: "completed",
      reason: "done",
    });
    expect(result).toMatchObject({ status: "completed", reason: "done", changedPaths: [] });
    expect(result.messages).toEqual([
      { role: "assistant", content: [{ type: "text", text: "Hello there, friend." }] },
    ]);
    expect(sentMessages(h.fake, 0)[0]).toEqual({ role: "system", content: "You are a test agent." });
  });

  it("runs a tool call and sends its result back to the model", async () => {
    h.fake.enqueue(
      { text: "Reading.", toolCalls: [{ id: "call_1", name: "read_file", arguments: { path: "a.txt" } }] },
      { text: "It says alpha." },
    );
    const { result, events } = await h.run({ workspace: t.workspace });
    expect(result.status).toBe("completed");
    expect(
      events.map((e) => e.type).filter((x) => x !== "text-delta" && x !== "tool-input-progress"),
    ).toEqual([
      "message-start",
      "tool-input-start",
      "tool-call-start",
      "step-finish",
      "tool-call-end",
      "step-finish",
      "message-end",
    ]);
    expect(events.find((e) => e.type === "tool-call-end")).toMatchObject({
      toolCallId: "call_1",
      output: "1\talpha",
      isError: false,
    });
    expect(sentMessages(h.fake, 1).at(-1)).toEqual({
      role: "tool",
      tool_call_id: "call_1",
      content: "1\talpha",
    });
    expect(result.messages.map((m) => m.role)).toEqual(["assistant", "tool", "assistant"]);
    expect(result.usage.inputTokens).toBeGreaterThan(0);
  });

  it("runs the read-only calls of one step in parallel", async () => {
    let started = 0;
    let release: () => void = () => {};
    const bothStarted = new Promise<void>((resolve) => {
      release = resolve;
    });
    const barrier = defineTool({
      name: "barrier",
      description: "waits until two calls run at once",
      input: z.object({ n: z.number().describe("which") }),
      mutates: false,
      timeoutMs: 2000,
      async execute(input) {
        if (++started === 2) release();
        await bothStarted;
        return { output: `done ${input.n}` };
      },
    });
    h.fake.enqueue(
      {
        toolCalls: [
          { name: "barrier", arguments: { n: 1 } },
          { name: "barrier", arguments: { n: 2 } },
        ],
      },
      { text: "ok" },
    );
    const { events } = await h.run({ workspace: t.workspace, tools: [barrier] });
    expect(
      events
        .filter((e) => e.type === "tool-call-end")
        .map((e) => (e.type === "tool-call-end" ? e.output : "")),
    ).toEqual(["done 1", "done 2"]);
  });

  it("runs mutating calls one at a time in the model's order, results in the model's order", async () => {
    h.fake.enqueue(
      {
        toolCalls: [
          { id: "r1", name: "read_file", arguments: { path: "a.txt" } },
          { id: "w1", name: "write_file", arguments: { path: "a.txt", content: "beta\n" } },
          { id: "r2", name: "read_file", arguments: { path: "a.txt" } },
          {
            id: "w2",
            name: "edit_file",
            arguments: { path: "a.txt", old_string: "beta", new_string: "gamma" },
          },
        ],
      },
      { text: "ok" },
    );
    const { result, events } = await h.run({ workspace: t.workspace });
    const ends = events.filter((e) => e.type === "tool-call-end");
    expect(ends.map((e) => (e.type === "tool-call-end" ? `${e.toolCallId}:${e.output}` : ""))).toEqual([
      "r1:1\talpha",
      "w1:Replaced the content of a.txt (1 lines, was 1 lines).",
      "r2:1\tbeta",
      "w2:Edited a.txt: replaced at line 1.",
    ]);
    expect(
      sentMessages(h.fake, 1)
        .slice(-4)
        .map((m) => m.tool_call_id),
    ).toEqual(["r1", "w1", "r2", "w2"]);
    expect(await readFile(nodePath.join(t.root, "a.txt"), "utf8")).toBe("gamma\n");
    expect(result.changedPaths).toEqual(["a.txt"]);
  });

  it("hands malformed arguments back to the model, which retries", async () => {
    h.fake.enqueue(
      { toolCalls: [{ id: "bad1", name: "read_file", arguments: '{"path": "a.txt"' }] },
      { toolCalls: [{ id: "bad2", name: "read_file", arguments: { path: 42 } }] },
      { toolCalls: [{ id: "good", name: "read_file", arguments: { path: "a.txt" } }] },
      { text: "fixed" },
    );
    const { result, events } = await h.run({ workspace: t.workspace });
    expect(result.status).toBe("completed");
    const ends = events.filter((e) => e.type === "tool-call-end");
    expect(ends.map((e) => e.type === "tool-call-end" && e.isError)).toEqual([true, true, false]);
    expect(sentMessages(h.fake, 1).at(-1)?.content).toContain("not valid JSON");
    expect(sentMessages(h.fake, 2).at(-1)?.content).toMatch(
      /Invalid arguments for read_file, so the tool did not run:\n- path: /,
    );
    // What the provider is sent back for the broken call is still a valid JSON object.
    expect(sentMessages(h.fake, 1).at(-2)?.tool_calls).toEqual([
      { id: "bad1", type: "function", function: { name: "read_file", arguments: "{}" } },
    ]);
  });

  it("stops with loop_detected when the same call keeps failing", async () => {
    h.fake.enqueue({ repeat: { toolCalls: [{ name: "read_file", arguments: { path: "missing.txt" } }] } });
    const { result, events } = await h.run({ workspace: t.workspace });
    expect(result).toMatchObject({ status: "failed", reason: "loop_detected" });
    expect(result.detail).toBe('Stopped: the same call failed 3 times: read_file {"path":"missing.txt"}.');
    expect(h.fake.requests).toHaveLength(3);
    expect(events.at(-1)).toMatchObject({
      type: "message-end",
      reason: "loop_detected",
      detail: result.detail,
    });
  });

  it("stops with loop_detected when the identical call repeats, even if it succeeds", async () => {
    h.fake.enqueue({ repeat: { toolCalls: [{ name: "read_file", arguments: { path: "a.txt" } }] } });
    const { result } = await h.run({ workspace: t.workspace });
    expect(result.reason).toBe("loop_detected");
    expect(result.detail).toContain("made 5 times in a row");
  });

  it("does not count a failing command as a loop when edits happen in between", async () => {
    let n = 0;
    h.fake.setResponder(() => {
      n++;
      if (n > 8) return { text: "gave up" };
      return n % 2
        ? { toolCalls: [{ name: "bash", arguments: { command: "grep -q fixed a.txt" } }] }
        : { toolCalls: [{ name: "write_file", arguments: { path: "a.txt", content: `attempt ${n}\n` } }] };
    });
    const { result } = await h.run({ workspace: t.workspace });
    expect(result).toMatchObject({ status: "completed", reason: "done" });
  });

  it("stops at the step limit", async () => {
    let n = 0;
    h.fake.setResponder(() => ({
      toolCalls: [{ name: "read_file", arguments: { path: "a.txt", offset: 1, limit: ++n } }],
    }));
    const { result } = await h.run({ workspace: t.workspace, maxSteps: 3 });
    expect(result).toMatchObject({ status: "failed", reason: "step_limit" });
    expect(result.detail).toContain("after 3 model calls");
    expect(h.fake.requests).toHaveLength(3);
    expect(result.messages.map((m) => m.role)).toEqual([
      "assistant",
      "tool",
      "assistant",
      "tool",
      "assistant",
      "tool",
    ]);
  });

  it("answers unknown tools and names in another case with an error, never running anything", async () => {
    h.fake.enqueue(
      {
        toolCalls: [
          { name: "Write_File", arguments: { path: "a.txt", content: "pwned" } },
          { name: "__proto__", arguments: {} },
          { name: "constructor", arguments: {} },
        ],
      },
      { text: "ok" },
    );
    const { events } = await h.run({ workspace: t.workspace });
    const ends = events.filter((e) => e.type === "tool-call-end");
    expect(ends).toHaveLength(3);
    for (const e of ends) expect(e.type === "tool-call-end" && e.output).toMatch(/^Unknown tool/);
    expect(await readFile(nodePath.join(t.root, "a.txt"), "utf8")).toBe("alpha\n");
  });

  it("makes repeated tool call ids unique across steps", async () => {
    h.fake.enqueue(
      { toolCalls: [{ id: "call_0", name: "read_file", arguments: { path: "a.txt" } }] },
      { toolCalls: [{ id: "call_0", name: "list_files", arguments: {} }] },
      { text: "ok" },
    );
    const { events } = await h.run({ workspace: t.workspace });
    expect(
      events
        .filter((e) => e.type === "tool-call-start")
        .map((e) => e.type === "tool-call-start" && e.toolCallId),
    ).toEqual(["call_0", "call_0_2"]);
    const sent = sentMessages(h.fake, 2);
    expect(sent.at(-2)?.tool_calls).toMatchObject([{ id: "call_0_2" }]);
    expect(sent.at(-1)?.tool_call_id).toBe("call_0_2");
  });

  it("announces a call and its path while the arguments still stream, under the id it runs with", async () => {
    h.fake.enqueue(
      { toolCalls: [{ id: "call_0", name: "read_file", arguments: { path: "a.txt" } }] },
      {
        chunkSize: 4,
        toolCalls: [
          { id: "call_0", name: "write_file", arguments: { path: "b.txt", content: "x".repeat(60) } },
        ],
      },
      { text: "ok" },
    );
    const { events } = await h.run({ workspace: t.workspace });
    const second = events.filter((e) => "toolCallId" in e && e.toolCallId === "call_0_2");
    expect(second[0]).toEqual({
      type: "tool-input-start",
      messageId: "msg_1",
      toolCallId: "call_0_2",
      toolName: "write_file",
    });
    const progress = second.filter((e) => e.type === "tool-input-progress");
    expect(progress[0]).toMatchObject({ input: { path: "b.txt" } });
    const start = second.findIndex((e) => e.type === "tool-call-start");
    expect(start).toBeGreaterThan(second.indexOf(progress[0]!));
    expect(second[start]).toMatchObject({ toolName: "write_file", input: { path: "b.txt" } });
  });

  it("ends with internal_error when the event consumer throws", async () => {
    h.fake.enqueue({ text: "hello" });
    let calls = 0;
    const { result } = await h.run({
      workspace: t.workspace,
      onEvent: (e) => {
        calls++;
        if (e.type === "text-delta") throw new Error("database down");
      },
    });
    expect(result).toMatchObject({ status: "failed", reason: "internal_error" });
    expect(result.detail).toContain("database down");
    expect(calls).toBeGreaterThan(1);
  });

  it("offers the tools it was given, with their schemas", async () => {
    h.fake.enqueue({ text: "ok" });
    await h.run({ workspace: t.workspace, tools: createDefaultTools({ webFetch: false, shells: false }) });
    const body = h.fake.requests[0]!.body as {
      tools: Array<{ function: { name: string; parameters: unknown } }>;
    };
    expect(body.tools.map((x) => x.function.name)).toEqual([
      "read_file",
      "write_file",
      "edit_file",
      "multi_edit",
      "list_files",
      "glob",
      "grep",
      "bash",
      "todo_write",
      "todo_read",
      "project_info",
      "preview_status",
    ]);
    expect(body.tools[0]!.function.parameters).toMatchObject({
      type: "object",
      required: ["path"],
      additionalProperties: false,
    });
  });
});
