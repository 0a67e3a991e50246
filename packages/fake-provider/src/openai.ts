/**
 * OpenAI Chat Completions wire format: the JSON body, the SSE chunk sequence, errors and the model list.
 * Shapes follow what api.openai.com sends, so the official client and the AI SDK parse them unchanged.
 */
import { type Plan, splitChunks } from "./plan.ts";

export interface OpenAIMeta {
  id: string;
  model: string;
  created: number;
  includeUsage: boolean;
}

const FINGERPRINT = "fp_fake";

function finishReason(plan: Plan): string {
  return plan.toolCalls.length > 0 ? "tool_calls" : "stop";
}

function usage(plan: Plan) {
  const { inputTokens, outputTokens, cachedInputTokens } = plan.usage;
  return {
    prompt_tokens: inputTokens,
    completion_tokens: outputTokens,
    total_tokens: inputTokens + outputTokens,
    prompt_tokens_details: { cached_tokens: cachedInputTokens, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: plan.reasoning ? Math.max(1, Math.ceil(plan.reasoning.length / 4)) : 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

export function openaiBody(plan: Plan, meta: OpenAIMeta) {
  const message: Record<string, unknown> = {
    role: "assistant",
    content: plan.text || (plan.toolCalls.length > 0 ? null : ""),
    refusal: null,
  };
  // DeepSeek-style field; the AI SDK's openai-compatible provider reads it as reasoning.
  if (plan.reasoning) message.reasoning_content = plan.reasoning;
  if (plan.toolCalls.length > 0) {
    message.tool_calls = plan.toolCalls.map((call) => ({
      id: call.id,
      type: "function",
      function: { name: call.name, arguments: call.arguments },
    }));
  }
  return {
    id: meta.id,
    object: "chat.completion",
    created: meta.created,
    model: meta.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: finishReason(plan) }],
    usage: usage(plan),
    system_fingerprint: FINGERPRINT,
  };
}

/** SSE frames, `data: [DONE]` last. */
export function openaiFrames(plan: Plan, meta: OpenAIMeta): string[] {
  const base = {
    id: meta.id,
    object: "chat.completion.chunk",
    created: meta.created,
    model: meta.model,
    system_fingerprint: FINGERPRINT,
  };
  const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
    frame({ ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] });
  const frames = [chunk({ role: "assistant", content: "", refusal: null })];
  for (const piece of splitChunks(plan.reasoning, plan.chunkSize))
    frames.push(chunk({ reasoning_content: piece }));
  for (const piece of splitChunks(plan.text, plan.chunkSize)) frames.push(chunk({ content: piece }));
  plan.toolCalls.forEach((call, index) => {
    // Like OpenAI: the first delta names the call, the arguments follow in pieces.
    frames.push(
      chunk({
        tool_calls: [{ index, id: call.id, type: "function", function: { name: call.name, arguments: "" } }],
      }),
    );
    for (const piece of splitChunks(call.arguments, plan.chunkSize)) {
      frames.push(chunk({ tool_calls: [{ index, function: { arguments: piece } }] }));
    }
  });
  frames.push(chunk({}, finishReason(plan)));
  // OpenAI sends usage in one more chunk with no choices, and only when the request asked for it.
  if (meta.includeUsage) frames.push(frame({ ...base, choices: [], usage: usage(plan) }));
  frames.push("data: [DONE]\n\n");
  return frames;
}

function frame(data: unknown): string {
  return `data: ${JSON.stringify(data)}\n\n`;
}

export function openaiError(status: number, message: string, type?: string) {
  const code = status === 429 ? "rate_limit_exceeded" : status === 401 ? "invalid_api_key" : null;
  const defaultType = status === 429 ? "requests" : status >= 500 ? "server_error" : "invalid_request_error";
  return { error: { message, type: type ?? defaultType, param: null, code } };
}

export function openaiModels(models: string[], created: number) {
  return { object: "list", data: models.map((id) => openaiModel(id, created)) };
}

export function openaiModel(id: string, created: number) {
  return { id, object: "model", created, owned_by: "fake-provider" };
}
