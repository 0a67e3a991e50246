import { createAnthropic } from "@ai-sdk/anthropic";
import { type FakeProvider, startFakeProvider } from "@kiln/fake-provider";
import { type AgentEvent, AgentEvent as AgentEventSchema } from "@kiln/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runAgent } from "./loop.ts";
import { type TestWorkspace, tempWorkspace } from "./testing/harness.ts";
import { createDefaultTools } from "./tools/index.ts";

let fake: FakeProvider;
let t: TestWorkspace;

beforeAll(async () => {
  fake = await startFakeProvider();
  t = await tempWorkspace({ "a.txt": "alpha\n" });
});
afterAll(async () => {
  await fake.close();
  await t.dispose();
});

describe("runAgent over the Anthropic Messages API", () => {
  it("streams reasoning and text, runs tools and sends results back as tool_result blocks", async () => {
    fake.enqueue(
      {
        reasoning: "I should read it.",
        toolCalls: [{ id: "toolu_1", name: "read_file", arguments: { path: "a.txt" } }],
      },
      { text: "It says alpha.", usage: { inputTokens: 50, outputTokens: 5, cachedInputTokens: 20 } },
    );
    const model = createAnthropic({ baseURL: `${fake.url}/v1`, apiKey: "x" })("claude-test");
    const events: AgentEvent[] = [];
    const result = await runAgent({
      model,
      system: "You are a test agent.",
      messages: [{ role: "user", content: "What is in a.txt?" }],
      tools: createDefaultTools({ webFetch: false }),
      workspace: t.workspace,
      mode: "allow",
      approve: async () => "reject",
      messageId: "m",
      signal: new AbortController().signal,
      maxRetries: 0,
      onEvent: (e) => events.push(AgentEventSchema.parse(e)),
    });
    expect(result).toMatchObject({ status: "completed", reason: "done" });
    expect(
      events
        .filter((e) => e.type === "reasoning-delta")
        .map((e) => (e.type === "reasoning-delta" ? e.delta : ""))
        .join(""),
    ).toBe("I should read it.");
    expect(events.find((e) => e.type === "tool-call-end")).toMatchObject({
      toolCallId: "toolu_1",
      output: "1\talpha",
    });
    const second = fake.requests[1]!.body as {
      system: unknown;
      messages: Array<{ role: string; content: Array<Record<string, unknown>> }>;
    };
    expect(second.messages.at(-1)).toMatchObject({
      role: "user",
      content: [{ type: "tool_result", tool_use_id: "toolu_1", content: "1\talpha" }],
    });
    expect(events.at(-1)).toMatchObject({ type: "message-end", usage: { cachedInputTokens: 20 } });
  });
});
