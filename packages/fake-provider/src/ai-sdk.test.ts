import { createAnthropic } from "@ai-sdk/anthropic";
import { createOpenAI } from "@ai-sdk/openai";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { generateText, type LanguageModel, streamText, tool } from "ai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { type FakeProvider, startFakeProvider } from "./index.ts";

// Unknown fake model ids make the SDK warn on every call; the warnings are noise here.
(globalThis as { AI_SDK_LOG_WARNINGS?: boolean }).AI_SDK_LOG_WARNINGS = false;

let fake: FakeProvider;
beforeAll(async () => {
  fake = await startFakeProvider();
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

const tools = {
  read_file: tool({ description: "Read a file", inputSchema: z.object({ path: z.string() }) }),
  bash: tool({ description: "Run a command", inputSchema: z.object({ command: z.string() }) }),
};

// Every way Kiln may reach a model; each behaviour below must hold for all of them.
const models: Array<[string, () => LanguageModel]> = [
  [
    "openai-compatible",
    () =>
      createOpenAICompatible({
        name: "fake",
        baseURL: `${fake.url}/v1`,
        apiKey: "sk-openai",
        includeUsage: true,
      })("fake-model"),
  ],
  ["anthropic", () => createAnthropic({ baseURL: `${fake.url}/v1`, apiKey: "sk-ant" })("claude-fake")],
  ["openai chat", () => createOpenAI({ baseURL: `${fake.url}/v1`, apiKey: "sk-openai" }).chat("gpt-fake")],
  ["openai responses", () => createOpenAI({ baseURL: `${fake.url}/v1`, apiKey: "sk-openai" })("gpt-fake")],
];

describe.each(models)("AI SDK via %s", (name, model) => {
  it("streams text in several chunks with usage and the stop reason", async () => {
    fake.enqueue({
      text: "Hello from the fake provider!",
      chunkSize: 5,
      usage: { inputTokens: 42, outputTokens: 7 },
    });
    const result = streamText({ model: model(), prompt: "Say hello" });
    const deltas: string[] = [];
    for await (const part of result.fullStream) if (part.type === "text-delta") deltas.push(part.text);
    expect(deltas.join("")).toBe("Hello from the fake provider!");
    expect(deltas.length).toBeGreaterThan(3);
    expect(await result.finishReason).toBe("stop");
    const usage = await result.usage;
    expect(usage.inputTokens).toBe(42);
    expect(usage.outputTokens).toBe(7);
    const request = fake.requests[0]!;
    expect(request.api).toBe(name === "anthropic" ? "anthropic" : "openai");
    expect(JSON.stringify(request.body)).toContain("Say hello");
  });

  it("estimates usage when the reply gives none and reports cached tokens", async () => {
    fake.enqueue({ text: "short" }, { text: "cached", usage: { inputTokens: 100, cachedInputTokens: 60 } });
    const first = await generateText({ model: model(), prompt: "x".repeat(400) });
    expect(first.usage.inputTokens).toBeGreaterThanOrEqual(100);
    expect(first.usage.outputTokens).toBeGreaterThan(0);
    const second = await generateText({ model: model(), prompt: "again" });
    expect(second.usage.inputTokens).toBe(100);
    expect(second.usage.inputTokenDetails.cacheReadTokens).toBe(60);
  });

  it("returns a single tool call with parsed input (stream and not)", async () => {
    const call = { id: "call_1", name: "read_file", arguments: { path: "src/App.tsx" } };
    fake.enqueue({ toolCalls: [call], chunkSize: 4 }, { toolCalls: [call] });
    const streamed = streamText({ model: model(), prompt: "read it", tools });
    const deltas: string[] = [];
    for await (const part of streamed.fullStream)
      if (part.type === "tool-input-delta") deltas.push(part.delta);
    expect(deltas.length).toBeGreaterThan(1);
    expect(await streamed.finishReason).toBe("tool-calls");
    const [streamedCall] = await streamed.toolCalls;
    expect(streamedCall).toMatchObject({
      toolCallId: "call_1",
      toolName: "read_file",
      input: { path: "src/App.tsx" },
    });

    const generated = await generateText({ model: model(), prompt: "read it", tools });
    expect(generated.finishReason).toBe("tool-calls");
    expect(generated.toolCalls[0]).toMatchObject({ toolName: "read_file", input: { path: "src/App.tsx" } });
  });

  it("returns parallel tool calls with text before them", async () => {
    fake.enqueue({
      text: "Two things at once.",
      toolCalls: [
        { name: "read_file", arguments: { path: "a.txt" } },
        { name: "bash", arguments: { command: "ls -la" } },
      ],
    });
    const result = streamText({ model: model(), prompt: "go", tools });
    expect(await result.text).toBe("Two things at once.");
    const calls = await result.toolCalls;
    expect(calls.map((c) => [c.toolName, c.input])).toEqual([
      ["read_file", { path: "a.txt" }],
      ["bash", { command: "ls -la" }],
    ]);
    expect(new Set(calls.map((c) => c.toolCallId)).size).toBe(2);
  });

  it("hands malformed tool arguments to the SDK as an invalid tool call", async () => {
    fake.enqueue({ toolCalls: [{ name: "read_file", arguments: '{"path": "src/App.tsx"' }] });
    const result = streamText({ model: model(), prompt: "read", tools });
    const errors: unknown[] = [];
    for await (const part of result.fullStream) if (part.type === "tool-error") errors.push(part);
    const calls = await result.toolCalls;
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ toolName: "read_file", invalid: true });
    expect(errors).toHaveLength(1);
  });

  it("retries a 429 with retry-after and then succeeds", async () => {
    fake.enqueue(
      { error: { status: 429, message: "slow down", retryAfterSeconds: 0.01 } },
      { text: "after the wait" },
    );
    const result = await generateText({ model: model(), prompt: "hi" });
    expect(result.text).toBe("after the wait");
    expect(fake.requests).toHaveLength(2);
  });

  it("surfaces a scripted 400 with its message, without retrying", async () => {
    fake.enqueue({ error: { status: 400, message: "prompt is too long" } });
    await expect(generateText({ model: model(), prompt: "hi" })).rejects.toThrow(/prompt is too long/);
    expect(fake.requests).toHaveLength(1);
  });

  it("turns a stream cut mid-way into an error", async () => {
    fake.enqueue({ cutAfterChunks: 3, reply: { text: "this stream will not finish", chunkSize: 3 } });
    const result = streamText({ model: model(), prompt: "hi", maxRetries: 0, onError: () => {} });
    const errors: unknown[] = [];
    let text = "";
    // The SDK reports the broken body either as an error part or by throwing from the stream.
    try {
      for await (const part of result.fullStream) {
        if (part.type === "error") errors.push(part.error);
        if (part.type === "text-delta") text += part.text;
      }
    } catch (error) {
      errors.push(error);
    }
    expect(String(errors[0])).toMatch(/terminated|other side closed|Failed to process/);
    expect(text.length).toBeLessThan("this stream will not finish".length);
  });

  it("reports an error event sent inside a started stream", async () => {
    fake.enqueue({
      errorAfterChunks: 5,
      error: { status: 529, type: "overloaded_error", message: "Overloaded mid-stream" },
      reply: { text: "a partial answer that stops", chunkSize: 3 },
    });
    const result = streamText({ model: model(), prompt: "hi", maxRetries: 0, onError: () => {} });
    const errors: unknown[] = [];
    try {
      for await (const part of result.fullStream) if (part.type === "error") errors.push(part.error);
    } catch (error) {
      errors.push(error);
    }
    expect(JSON.stringify(errors) + String(errors[0])).toContain("Overloaded mid-stream");
  });

  it("delivers the first chunks of a stalled stream, then waits until aborted", async () => {
    fake.enqueue({ hangAfterChunks: 5, reply: { text: "x".repeat(200), chunkSize: 4 } });
    const controller = new AbortController();
    const result = streamText({
      model: model(),
      prompt: "hi",
      abortSignal: controller.signal,
      maxRetries: 0,
    });
    let text = "";
    let aborted = false;
    try {
      for await (const part of result.fullStream) {
        if (part.type === "text-delta") {
          text += part.text;
          controller.abort();
        }
        if (part.type === "abort") aborted = true;
      }
    } catch (error) {
      aborted = /abort/i.test(String(error));
    }
    expect(text.length).toBeGreaterThan(0);
    expect(text.length).toBeLessThan(200);
    expect(aborted).toBe(true);
  });

  it("aborts a hanging request through the AbortSignal", async () => {
    fake.enqueue({ hang: true });
    const controller = new AbortController();
    const pending = generateText({
      model: model(),
      prompt: "hi",
      abortSignal: controller.signal,
      maxRetries: 0,
    });
    await waitFor(() => fake.requests.length === 1);
    controller.abort();
    await expect(pending).rejects.toThrow(/abort/i);
  });

  it("fails with a clear error when the script ran out", async () => {
    await expect(generateText({ model: model(), prompt: "hi" })).rejects.toThrow(/script ran out/);
  });

  // OpenAI's own Chat Completions API has no reasoning field; only the compatible provider reads one.
  it.skipIf(name === "openai chat")("streams reasoning before the text", async () => {
    fake.enqueue({ text: "42", reasoning: "Let me think about it." });
    const result = streamText({ model: model(), prompt: "meaning of life?" });
    expect(await result.reasoningText).toBe("Let me think about it.");
    expect(await result.text).toBe("42");
  });
});

async function waitFor(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}
