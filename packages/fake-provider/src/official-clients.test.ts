import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type FakeProvider, startFakeProvider } from "./index.ts";

let fake: FakeProvider;
beforeAll(async () => {
  fake = await startFakeProvider({ models: ["fake-model", "fake-model-large"] });
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

const openai = () => new OpenAI({ baseURL: `${fake.url}/v1`, apiKey: "sk-test-openai", maxRetries: 0 });
const anthropic = () => new Anthropic({ baseURL: fake.url, apiKey: "sk-ant-test", maxRetries: 0 });

describe("official openai client", () => {
  it("gets a completion with tool calls, ids, model echo and usage", async () => {
    fake.enqueue({
      text: "Checking.",
      toolCalls: [{ id: "call_a", name: "read_file", arguments: { path: "x" } }],
      usage: { inputTokens: 30, outputTokens: 5, cachedInputTokens: 10 },
    });
    const res = await openai().chat.completions.create({
      model: "gpt-fake",
      messages: [{ role: "user", content: "hi" }],
    });
    expect(res.id).toMatch(/^chatcmpl-/);
    expect(res.model).toBe("gpt-fake");
    expect(res.choices[0]!.finish_reason).toBe("tool_calls");
    expect(res.choices[0]!.message.content).toBe("Checking.");
    expect(res.choices[0]!.message.tool_calls).toEqual([
      { id: "call_a", type: "function", function: { name: "read_file", arguments: '{"path":"x"}' } },
    ]);
    expect(res.usage).toMatchObject({ prompt_tokens: 30, completion_tokens: 5, total_tokens: 35 });
    expect(res.usage!.prompt_tokens_details!.cached_tokens).toBe(10);
    expect(fake.requests[0]!.headers.authorization).toBe("Bearer sk-test-openai");
  });

  it("streams text deltas and a final usage chunk when include_usage is set", async () => {
    fake.enqueue({ text: "one two three four five", chunkSize: 4 });
    const stream = await openai().chat.completions.create({
      model: "gpt-fake",
      messages: [{ role: "user", content: "count" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let deltas = 0;
    let finish: string | null | undefined;
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      if (choice?.delta.content) {
        text += choice.delta.content;
        deltas++;
      }
      if (choice?.finish_reason) finish = choice.finish_reason;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe("one two three four five");
    expect(deltas).toBeGreaterThan(3);
    expect(finish).toBe("stop");
    expect(usage!.completion_tokens).toBeGreaterThan(0);
    expect(usage!.prompt_tokens).toBeGreaterThan(0);
  });

  it("streams tool-call arguments in several deltas", async () => {
    fake.enqueue({ toolCalls: [{ name: "bash", arguments: { command: "npm run build && npm test" } }] });
    const stream = await openai().chat.completions.create({
      model: "gpt-fake",
      messages: [{ role: "user", content: "build" }],
      stream: true,
    });
    const pieces: string[] = [];
    let name: string | undefined;
    for await (const chunk of stream) {
      for (const call of chunk.choices[0]?.delta.tool_calls ?? []) {
        name ??= call.function?.name;
        if (call.function?.arguments) pieces.push(call.function.arguments);
      }
      expect(chunk.usage ?? undefined).toBeUndefined();
    }
    expect(name).toBe("bash");
    expect(pieces.length).toBeGreaterThan(1);
    expect(JSON.parse(pieces.join(""))).toEqual({ command: "npm run build && npm test" });
  });

  it("raises the scripted error type with its status and message", async () => {
    fake.enqueue({ error: { status: 429, message: "Rate limit reached", retryAfterSeconds: 2 } });
    const error = await openai()
      .chat.completions.create({ model: "m", messages: [{ role: "user", content: "x" }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect((error as InstanceType<typeof OpenAI.RateLimitError>).message).toMatch(/Rate limit reached/);
    expect((error as InstanceType<typeof OpenAI.RateLimitError>).headers?.get("retry-after")).toBe("2");
  });

  it("throws on an error event inside a chat stream", async () => {
    fake.enqueue({
      errorAfterChunks: 2,
      error: { message: "upstream broke" },
      reply: { text: "abcdefghijkl" },
    });
    const stream = await openai().chat.completions.create({
      model: "gpt-fake",
      messages: [{ role: "user", content: "x" }],
      stream: true,
    });
    const read = async () => {
      for await (const _ of stream) {
        // drain
      }
    };
    await expect(read()).rejects.toThrow(/upstream broke/);
  });

  it("answers the Responses API, with text, a function call and usage", async () => {
    fake.enqueue({
      text: "Calling a tool.",
      toolCalls: [{ id: "call_r", name: "bash", arguments: { command: "ls" } }],
      usage: { inputTokens: 20, outputTokens: 4, cachedInputTokens: 5 },
    });
    const res = await openai().responses.create({ model: "gpt-fake", input: "list files" });
    expect(res.model).toBe("gpt-fake");
    expect(res.output_text).toBe("Calling a tool.");
    expect(res.output.find((item) => item.type === "function_call")).toMatchObject({
      call_id: "call_r",
      name: "bash",
      arguments: '{"command":"ls"}',
    });
    expect(res.usage).toMatchObject({
      input_tokens: 20,
      output_tokens: 4,
      input_tokens_details: { cached_tokens: 5 },
    });
  });

  it("streams the Responses API events", async () => {
    fake.enqueue({ text: "streamed response text", chunkSize: 5 });
    const stream = await openai().responses.create({ model: "gpt-fake", input: "hi", stream: true });
    const deltas: string[] = [];
    let completed = false;
    for await (const event of stream) {
      if (event.type === "response.output_text.delta") deltas.push(event.delta);
      if (event.type === "response.completed") completed = event.response.usage!.output_tokens > 0;
    }
    expect(deltas.join("")).toBe("streamed response text");
    expect(deltas.length).toBeGreaterThan(3);
    expect(completed).toBe(true);
  });

  it("lists the models", async () => {
    const page = await openai().models.list();
    expect(page.data.map((m) => m.id)).toEqual(["fake-model", "fake-model-large"]);
  });
});

describe("official anthropic client", () => {
  it("gets a message with text, tool use and usage split into cache reads", async () => {
    fake.enqueue({
      text: "Let me look.",
      toolCalls: [{ id: "toolu_1", name: "list_files", arguments: { path: "." } }],
      usage: { inputTokens: 50, outputTokens: 8, cachedInputTokens: 20 },
    });
    const msg = await anthropic().messages.create({
      model: "claude-fake",
      max_tokens: 1024,
      messages: [{ role: "user", content: "what is here?" }],
    });
    expect(msg.id).toMatch(/^msg_/);
    expect(msg.model).toBe("claude-fake");
    expect(msg.stop_reason).toBe("tool_use");
    expect(msg.content).toEqual([
      { type: "text", text: "Let me look." },
      { type: "tool_use", id: "toolu_1", name: "list_files", input: { path: "." } },
    ]);
    expect(msg.usage).toMatchObject({ input_tokens: 30, cache_read_input_tokens: 20, output_tokens: 8 });
    const headers = fake.requests[0]!.headers;
    // SDK 1.14 sends the key as a bearer token; older ones used x-api-key.
    expect(String(headers["x-api-key"] ?? headers.authorization)).toContain("sk-ant-test");
    expect(headers["anthropic-version"]).toBeDefined();
  });

  it("streams with the message helper and accumulates the final message", async () => {
    fake.enqueue({
      text: "Reading both files now.",
      toolCalls: [
        { name: "read_file", arguments: { path: "a.ts" } },
        { name: "read_file", arguments: { path: "b.ts" } },
      ],
      chunkSize: 3,
    });
    const stream = anthropic().messages.stream({
      model: "claude-fake",
      max_tokens: 1024,
      messages: [{ role: "user", content: "read a and b" }],
    });
    const deltas: string[] = [];
    stream.on("text", (delta) => deltas.push(delta));
    const final = await stream.finalMessage();
    expect(deltas.length).toBeGreaterThan(3);
    expect(deltas.join("")).toBe("Reading both files now.");
    expect(final.stop_reason).toBe("tool_use");
    expect(final.content.filter((b) => b.type === "tool_use").map((b) => b.input)).toEqual([
      { path: "a.ts" },
      { path: "b.ts" },
    ]);
    expect(final.usage.output_tokens).toBeGreaterThan(0);
  });

  it("streams raw events with stream: true", async () => {
    fake.enqueue({ text: "hi there" });
    const stream = await anthropic().messages.create({
      model: "claude-fake",
      max_tokens: 100,
      messages: [{ role: "user", content: "hi" }],
      stream: true,
    });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    expect(types[0]).toBe("message_start");
    expect(types.at(-2)).toBe("message_delta");
    expect(types.at(-1)).toBe("message_stop");
  });

  it("raises the scripted error type (overloaded)", async () => {
    fake.enqueue({ error: { status: 529, message: "Overloaded" } });
    const error = await anthropic()
      .messages.create({ model: "m", max_tokens: 10, messages: [{ role: "user", content: "x" }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.APIError);
    expect((error as InstanceType<typeof Anthropic.APIError>).status).toBe(529);
    expect(JSON.stringify((error as InstanceType<typeof Anthropic.APIError>).error)).toContain(
      "overloaded_error",
    );
  });

  it("sees a cut stream as an error", async () => {
    fake.enqueue({ cutAfterChunks: 4, reply: { text: "never finished", chunkSize: 2 } });
    const stream = anthropic().messages.stream({
      model: "claude-fake",
      max_tokens: 100,
      messages: [{ role: "user", content: "hi" }],
    });
    await expect(stream.finalMessage()).rejects.toThrow();
  });

  it("lists the models in Anthropic's shape", async () => {
    const page = await anthropic().models.list();
    expect(page.data).toEqual([
      expect.objectContaining({ id: "fake-model", type: "model", display_name: "fake-model" }),
      expect.objectContaining({ id: "fake-model-large", type: "model" }),
    ]);
    expect(fake.requests[0]!.api).toBe("anthropic");
  });
});
