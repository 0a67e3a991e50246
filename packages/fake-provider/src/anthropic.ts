/**
 * Anthropic Messages wire format: the JSON body, the SSE event sequence, errors and the model list.
 * Shapes follow what api.anthropic.com sends, so the official SDK and the AI SDK parse them unchanged.
 */
import { type Plan, splitChunks } from "./plan.ts";

export interface AnthropicMeta {
  id: string;
  model: string;
}

// Thinking blocks must carry a signature; a fixed fake one is enough for clients that only pass it back.
const FAKE_SIGNATURE = "ZmFrZS1wcm92aWRlci1zaWduYXR1cmU=";

function stopReason(plan: Plan): string {
  return plan.toolCalls.length > 0 ? "tool_use" : "end_turn";
}

/** Anthropic's `input_tokens` excludes cache reads; FakeUsage.inputTokens includes them. */
function usage(plan: Plan, outputTokens: number) {
  const { inputTokens, cachedInputTokens } = plan.usage;
  return {
    input_tokens: inputTokens - cachedInputTokens,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: cachedInputTokens,
    output_tokens: outputTokens,
  };
}

/** A malformed-arguments script can only be shown as a string: the real API always sends an object. */
function toolInput(args: string): unknown {
  try {
    return JSON.parse(args);
  } catch {
    return args;
  }
}

export function anthropicBody(plan: Plan, meta: AnthropicMeta) {
  const content: unknown[] = [];
  if (plan.reasoning) content.push({ type: "thinking", thinking: plan.reasoning, signature: FAKE_SIGNATURE });
  if (plan.text) content.push({ type: "text", text: plan.text });
  for (const call of plan.toolCalls) {
    content.push({ type: "tool_use", id: call.id, name: call.name, input: toolInput(call.arguments) });
  }
  return {
    id: meta.id,
    type: "message",
    role: "assistant",
    model: meta.model,
    content,
    stop_reason: stopReason(plan),
    stop_sequence: null,
    usage: usage(plan, plan.usage.outputTokens),
  };
}

/** SSE frames from `message_start` to `message_stop`. */
export function anthropicFrames(plan: Plan, meta: AnthropicMeta): string[] {
  const frames = [
    event("message_start", {
      message: {
        id: meta.id,
        type: "message",
        role: "assistant",
        model: meta.model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: usage(plan, 1),
      },
    }),
    event("ping", {}),
  ];
  let index = 0;
  const block = (start: unknown, deltas: unknown[]) => {
    frames.push(event("content_block_start", { index, content_block: start }));
    for (const delta of deltas) frames.push(event("content_block_delta", { index, delta }));
    frames.push(event("content_block_stop", { index }));
    index++;
  };
  if (plan.reasoning) {
    block({ type: "thinking", thinking: "", signature: "" }, [
      ...splitChunks(plan.reasoning, plan.chunkSize).map((thinking) => ({
        type: "thinking_delta",
        thinking,
      })),
      { type: "signature_delta", signature: FAKE_SIGNATURE },
    ]);
  }
  if (plan.text) {
    block(
      { type: "text", text: "" },
      splitChunks(plan.text, plan.chunkSize).map((text) => ({ type: "text_delta", text })),
    );
  }
  for (const call of plan.toolCalls) {
    // Like Anthropic: the block opens with an empty input, then the JSON arrives in pieces.
    block({ type: "tool_use", id: call.id, name: call.name, input: {} }, [
      { type: "input_json_delta", partial_json: "" },
      ...splitChunks(call.arguments, plan.chunkSize).map((partial_json) => ({
        type: "input_json_delta",
        partial_json,
      })),
    ]);
  }
  frames.push(
    event("message_delta", {
      delta: { stop_reason: stopReason(plan), stop_sequence: null },
      usage: usage(plan, plan.usage.outputTokens),
    }),
  );
  frames.push(event("message_stop", {}));
  return frames;
}

function event(type: string, data: Record<string, unknown>): string {
  return `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
}

export function anthropicError(status: number, message: string, type?: string) {
  return { type: "error", error: { type: type ?? defaultType(status), message } };
}

function defaultType(status: number): string {
  switch (status) {
    case 401:
      return "authentication_error";
    case 403:
      return "permission_error";
    case 404:
      return "not_found_error";
    case 413:
      return "request_too_large";
    case 429:
      return "rate_limit_error";
    case 529:
      return "overloaded_error";
    default:
      return status >= 500 ? "api_error" : "invalid_request_error";
  }
}

export function anthropicModels(models: string[], createdAt: string) {
  return {
    data: models.map((id) => anthropicModel(id, createdAt)),
    has_more: false,
    first_id: models[0] ?? null,
    last_id: models.at(-1) ?? null,
  };
}

export function anthropicModel(id: string, createdAt: string) {
  return { id, type: "model", display_name: id, created_at: createdAt };
}
