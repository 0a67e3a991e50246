/**
 * OpenAI Responses API wire format (`POST /v1/responses`): what `createOpenAI(...)(model)` and
 * `client.responses.create` speak. Function calls, text and reasoning summaries; no hosted tools.
 * Errors share the Chat Completions error shape (openai.ts).
 */
import { newId, type Plan, splitChunks } from "./plan.ts";

export interface ResponsesMeta {
  id: string;
  model: string;
  created: number;
}

interface Item {
  type: string;
  id: string;
  [key: string]: unknown;
}

/** Ids are fixed per plan so the streamed items and the final `response.completed` agree. */
function items(plan: Plan): { reasoning?: Item; message?: Item; calls: Item[] } {
  return {
    reasoning: plan.reasoning
      ? { type: "reasoning", id: newId("rs_"), summary: [{ type: "summary_text", text: plan.reasoning }] }
      : undefined,
    message: plan.text
      ? {
          type: "message",
          id: newId("msg_"),
          status: "completed",
          role: "assistant",
          content: [{ type: "output_text", text: plan.text, annotations: [], logprobs: [] }],
        }
      : undefined,
    calls: plan.toolCalls.map((call) => ({
      type: "function_call",
      id: newId("fc_"),
      call_id: call.id,
      name: call.name,
      arguments: call.arguments,
      status: "completed",
    })),
  };
}

function usage(plan: Plan) {
  const { inputTokens, outputTokens, cachedInputTokens } = plan.usage;
  return {
    input_tokens: inputTokens,
    input_tokens_details: { cached_tokens: cachedInputTokens },
    output_tokens: outputTokens,
    output_tokens_details: {
      reasoning_tokens: plan.reasoning ? Math.max(1, Math.ceil(plan.reasoning.length / 4)) : 0,
    },
    total_tokens: inputTokens + outputTokens,
  };
}

function response(meta: ResponsesMeta, status: string, output: Item[], plan: Plan | undefined) {
  return {
    id: meta.id,
    object: "response",
    created_at: meta.created,
    status,
    error: null,
    incomplete_details: null,
    model: meta.model,
    output,
    parallel_tool_calls: true,
    usage: plan ? usage(plan) : null,
  };
}

function ordered(parts: ReturnType<typeof items>): Item[] {
  return [parts.reasoning, parts.message, ...parts.calls].filter((item): item is Item => item !== undefined);
}

export function responsesBody(plan: Plan, meta: ResponsesMeta) {
  return response(meta, "completed", ordered(items(plan)), plan);
}

/** SSE frames from `response.created` to `response.completed` (the Responses API sends no `[DONE]`). */
export function responsesFrames(plan: Plan, meta: ResponsesMeta): string[] {
  const parts = items(plan);
  const frames: string[] = [];
  let sequence = 0;
  const event = (type: string, data: Record<string, unknown>) => {
    frames.push(
      `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: sequence++, ...data })}\n\n`,
    );
  };
  event("response.created", { response: response(meta, "in_progress", [], undefined) });
  event("response.in_progress", { response: response(meta, "in_progress", [], undefined) });

  let outputIndex = 0;
  if (parts.reasoning) {
    const { id } = parts.reasoning;
    const at = { item_id: id, output_index: outputIndex, summary_index: 0 };
    event("response.output_item.added", {
      output_index: outputIndex,
      item: { ...parts.reasoning, summary: [] },
    });
    event("response.reasoning_summary_part.added", { ...at, part: { type: "summary_text", text: "" } });
    for (const delta of splitChunks(plan.reasoning, plan.chunkSize)) {
      event("response.reasoning_summary_text.delta", { ...at, delta });
    }
    event("response.reasoning_summary_text.done", { ...at, text: plan.reasoning });
    event("response.reasoning_summary_part.done", {
      ...at,
      part: { type: "summary_text", text: plan.reasoning },
    });
    event("response.output_item.done", { output_index: outputIndex, item: parts.reasoning });
    outputIndex++;
  }
  if (parts.message) {
    const at = { item_id: parts.message.id, output_index: outputIndex, content_index: 0 };
    event("response.output_item.added", {
      output_index: outputIndex,
      item: { ...parts.message, status: "in_progress", content: [] },
    });
    event("response.content_part.added", { ...at, part: { type: "output_text", text: "", annotations: [] } });
    for (const delta of splitChunks(plan.text, plan.chunkSize)) {
      event("response.output_text.delta", { ...at, delta, logprobs: [] });
    }
    event("response.output_text.done", { ...at, text: plan.text, logprobs: [] });
    event("response.content_part.done", {
      ...at,
      part: { type: "output_text", text: plan.text, annotations: [] },
    });
    event("response.output_item.done", { output_index: outputIndex, item: parts.message });
    outputIndex++;
  }
  for (const call of parts.calls) {
    const at = { item_id: call.id, output_index: outputIndex };
    event("response.output_item.added", {
      output_index: outputIndex,
      item: { ...call, arguments: "", status: "in_progress" },
    });
    for (const delta of splitChunks(String(call.arguments), plan.chunkSize)) {
      event("response.function_call_arguments.delta", { ...at, delta });
    }
    event("response.function_call_arguments.done", { ...at, arguments: call.arguments });
    event("response.output_item.done", { output_index: outputIndex, item: call });
    outputIndex++;
  }
  event("response.completed", { response: response(meta, "completed", ordered(parts), plan) });
  return frames;
}
