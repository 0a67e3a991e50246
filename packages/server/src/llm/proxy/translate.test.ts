import type { LanguageModelV4StreamPart, LanguageModelV4Usage } from "@ai-sdk/provider";
import { describe, expect, it } from "vitest";
import { AnthropicEventer, anthropicToPrompt } from "./anthropic.ts";
import { OpenAiChunker, openAiToPrompt } from "./openai.ts";

const usage: LanguageModelV4Usage = {
  inputTokens: { total: 100, noCache: 70, cacheRead: 30, cacheWrite: 0 },
  outputTokens: { total: 20, text: 20, reasoning: 0 },
};
const finish = (unified: "stop" | "tool-calls"): LanguageModelV4StreamPart => ({
  type: "finish",
  usage,
  finishReason: { unified, raw: undefined },
});

describe("OpenAiChunker", () => {
  it("streams tool arguments once: as deltas, or whole when the upstream sent no deltas", () => {
    const chunker = new OpenAiChunker("kiln/model", true);
    const parts: LanguageModelV4StreamPart[] = [
      { type: "text-delta", id: "t", delta: "Hi" },
      { type: "tool-input-start", id: "a", toolName: "read" },
      { type: "tool-input-delta", id: "a", delta: '{"pa' },
      { type: "tool-input-delta", id: "a", delta: 'th":1}' },
      { type: "tool-call", toolCallId: "a", toolName: "read", input: '{"path":1}' },
      { type: "tool-call", toolCallId: "b", toolName: "ls", input: "{}" },
      finish("tool-calls"),
    ];
    const deltas = parts.flatMap((p) => chunker.onPart(p)) as Array<{
      choices: Array<{ delta: Record<string, unknown>; finish_reason: string | null }>;
      usage?: unknown;
    }>;
    const calls = deltas.flatMap(
      (d) => (d.choices[0]?.delta.tool_calls as Array<Record<string, unknown>>) ?? [],
    );
    expect(calls).toEqual([
      { index: 0, id: "a", type: "function", function: { name: "read", arguments: "" } },
      { index: 0, function: { arguments: '{"pa' } },
      { index: 0, function: { arguments: 'th":1}' } },
      { index: 1, id: "b", type: "function", function: { name: "ls", arguments: "{}" } },
    ]);
    expect(deltas.at(-2)!.choices[0]!.finish_reason).toBe("tool_calls");
    expect(deltas.at(-1)).toMatchObject({
      choices: [],
      usage: { prompt_tokens: 100, completion_tokens: 20, prompt_tokens_details: { cached_tokens: 30 } },
    });
  });

  it("throws an error part for the caller's error event", () => {
    expect(() => new OpenAiChunker("m", false).onPart({ type: "error", error: new Error("boom") })).toThrow(
      "boom",
    );
  });
});

describe("AnthropicEventer", () => {
  it("opens one block at a time and numbers them in order", () => {
    const eventer = new AnthropicEventer("kiln/model");
    const parts: LanguageModelV4StreamPart[] = [
      { type: "reasoning-delta", id: "r", delta: "hmm" },
      { type: "text-delta", id: "t", delta: "Hello" },
      { type: "text-delta", id: "t", delta: " there" },
      { type: "tool-input-start", id: "a", toolName: "x" },
      { type: "tool-call", toolCallId: "a", toolName: "x", input: '{"q":1}' },
      finish("tool-calls"),
    ];
    const events = [...eventer.start(), ...parts.flatMap((p) => eventer.onPart(p))];
    expect(events.map((e) => `${e.event}:${(e.data as { index?: number }).index ?? ""}`)).toEqual([
      "message_start:",
      "content_block_start:0",
      "content_block_delta:0",
      "content_block_stop:0",
      "content_block_start:1",
      "content_block_delta:1",
      "content_block_delta:1",
      "content_block_stop:1",
      "content_block_start:2",
      "content_block_delta:2",
      "content_block_stop:2",
      "message_delta:",
      "message_stop:",
    ]);
    expect(events.at(-2)!.data).toMatchObject({
      delta: { stop_reason: "tool_use" },
      usage: { input_tokens: 70, cache_read_input_tokens: 30, output_tokens: 20 },
    });
  });
});

describe("prompts", () => {
  it("OpenAI: tool messages after one assistant turn become one tool message, names looked up", () => {
    const prompt = openAiToPrompt([
      { role: "developer", content: [{ type: "text", text: "rules" }] },
      { role: "user", content: "go" },
      {
        role: "assistant",
        content: null,
        tool_calls: [
          { id: "1", type: "function", function: { name: "a", arguments: '{"x":1}' } },
          { id: "2", type: "function", function: { name: "b", arguments: "not json" } },
        ],
      },
      { role: "tool", tool_call_id: "1", content: "r1" },
      { role: "tool", tool_call_id: "2", content: [{ type: "text", text: "r2" }] },
    ]);
    expect(prompt.map((m) => m.role)).toEqual(["system", "user", "assistant", "tool"]);
    expect(prompt[2]!.content).toEqual([
      { type: "tool-call", toolCallId: "1", toolName: "a", input: { x: 1 } },
      { type: "tool-call", toolCallId: "2", toolName: "b", input: "not json" },
    ]);
    expect(prompt[3]!.content).toEqual([
      { type: "tool-result", toolCallId: "1", toolName: "a", output: { type: "text", value: "r1" } },
      { type: "tool-result", toolCallId: "2", toolName: "b", output: { type: "text", value: "r2" } },
    ]);
  });

  it("Anthropic: tool results move out of the user message, ahead of its text; errors stay errors", () => {
    const prompt = anthropicToPrompt({
      model: "m/x",
      max_tokens: 5,
      system: [{ type: "text", text: "sys" }],
      messages: [
        { role: "user", content: "go" },
        { role: "assistant", content: [{ type: "tool_use", id: "t1", name: "bash", input: { cmd: "ls" } }] },
        {
          role: "user",
          content: [
            { type: "text", text: "also this" },
            { type: "tool_result", tool_use_id: "t1", content: "exit 1", is_error: true },
          ],
        },
      ],
    });
    expect(prompt.map((m) => m.role)).toEqual(["system", "user", "assistant", "tool", "user"]);
    expect(prompt[3]!.content).toEqual([
      {
        type: "tool-result",
        toolCallId: "t1",
        toolName: "bash",
        output: { type: "error-text", value: "exit 1" },
      },
    ]);
  });
});
