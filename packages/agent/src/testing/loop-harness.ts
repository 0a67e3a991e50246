import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { type FakeProvider, startFakeProvider } from "@kiln/fake-provider";
import { type AgentEvent, AgentEvent as AgentEventSchema } from "@kiln/protocol";
import { type RunAgentOptions, type RunAgentResult, runAgent } from "../loop.ts";
import { createDefaultTools } from "../tools/index.ts";
import type { Workspace } from "../workspace.ts";

export interface LoopHarness {
  fake: FakeProvider;
  model: ReturnType<ReturnType<typeof createOpenAICompatible>>;
  run(
    options: Partial<RunAgentOptions> & { workspace: Workspace },
  ): Promise<{ result: RunAgentResult; events: AgentEvent[] }>;
  close(): Promise<void>;
}

/** The fake provider over real HTTP, and `run` with defaults every test would repeat. */
export async function startLoopHarness(): Promise<LoopHarness> {
  const fake = await startFakeProvider();
  const model = createOpenAICompatible({
    name: "fake",
    baseURL: `${fake.url}/v1`,
    apiKey: "x",
    includeUsage: true,
  })("fake-model");
  return {
    fake,
    model,
    async run(options) {
      const events: AgentEvent[] = [];
      const result = await runAgent({
        model,
        system: "You are a test agent.",
        messages: [{ role: "user", content: "Do the thing." }],
        tools: createDefaultTools({ webFetch: false }),
        mode: "allow",
        approve: async () => "reject",
        messageId: "msg_1",
        signal: new AbortController().signal,
        maxRetries: 0,
        ...options,
        onEvent: (event) => {
          // Every event must be valid on the wire.
          events.push(AgentEventSchema.parse(event));
          options.onEvent?.(event);
        },
      });
      return { result, events };
    },
    close: () => fake.close(),
  };
}

/** Text of a recorded OpenAI request's messages, for asserting what the model was sent. */
export function sentMessages(
  fake: FakeProvider,
  index: number,
): Array<{ role: string; content?: unknown; tool_calls?: unknown; tool_call_id?: string }> {
  const request = fake.requests.filter((r) => r.method === "POST")[index];
  if (!request) throw new Error(`no model request #${index}`);
  return (request.body as { messages: never[] }).messages;
}
