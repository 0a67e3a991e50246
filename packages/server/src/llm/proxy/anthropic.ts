import type {
  LanguageModelV4CallOptions,
  LanguageModelV4GenerateResult,
  LanguageModelV4Message,
  LanguageModelV4Prompt,
  LanguageModelV4StreamPart,
  LanguageModelV4ToolResultPart,
} from "@ai-sdk/provider";
import { BadRequestError } from "../../errors/errors.ts";
import { tokensOf } from "../usage.ts";
import type { AnthropicBlock, AnthropicMessageResponse, MessagesRequest } from "./anthropic-schema.ts";
import { argumentsObject, imagePart, randomId, type UnifiedFinish } from "./common.ts";

/** Anthropic Messages ⇄ the AI SDK's language model call, so any upstream serves this API. */

type AssistantContent = Extract<LanguageModelV4Message, { role: "assistant" }>["content"];
type UserContent = Extract<LanguageModelV4Message, { role: "user" }>["content"];

function imageOf(block: Extract<AnthropicBlock, { type: "image" }>) {
  return block.source.type === "base64"
    ? imagePart(`data:${block.source.media_type};base64,${block.source.data}`)
    : imagePart(block.source.url);
}

export function anthropicToPrompt(body: MessagesRequest): LanguageModelV4Prompt {
  const prompt: LanguageModelV4Prompt = [];
  if (body.system !== undefined) {
    const system = typeof body.system === "string" ? body.system : body.system.map((b) => b.text).join("\n");
    if (system) prompt.push({ role: "system", content: system });
  }
  const toolNames = new Map<string, string>();
  for (const m of body.messages) {
    const blocks: AnthropicBlock[] =
      typeof m.content === "string" ? [{ type: "text", text: m.content }] : m.content;
    if (m.role === "assistant") {
      const content: AssistantContent = [];
      for (const b of blocks) {
        if (b.type === "text") content.push({ type: "text", text: b.text });
        else if (b.type === "thinking") content.push({ type: "reasoning", text: b.thinking });
        else if (b.type === "tool_use") {
          toolNames.set(b.id, b.name);
          content.push({ type: "tool-call", toolCallId: b.id, toolName: b.name, input: b.input });
        } else if (b.type !== "redacted_thinking") {
          throw new BadRequestError(
            "validation_failed",
            `an assistant message cannot hold a ${b.type} block`,
          );
        }
      }
      prompt.push({ role: "assistant", content });
      continue;
    }
    // Anthropic puts tool results in user messages; the AI SDK keeps them in tool messages, first.
    const results: LanguageModelV4ToolResultPart[] = [];
    const content: UserContent = [];
    for (const b of blocks) {
      if (b.type === "tool_result") {
        const toolName = toolNames.get(b.tool_use_id);
        if (!toolName) {
          throw new BadRequestError(
            "validation_failed",
            `tool_result answers tool_use_id "${b.tool_use_id}", which no earlier assistant message used`,
          );
        }
        const text =
          b.content === undefined
            ? ""
            : typeof b.content === "string"
              ? b.content
              : b.content.map((c) => (c.type === "text" ? c.text : "")).join("");
        results.push({
          type: "tool-result",
          toolCallId: b.tool_use_id,
          toolName,
          output: b.is_error ? { type: "error-text", value: text } : { type: "text", value: text },
        });
      } else if (b.type === "text") content.push({ type: "text", text: b.text });
      else if (b.type === "image") content.push(imageOf(b));
      else throw new BadRequestError("validation_failed", `a user message cannot hold a ${b.type} block`);
    }
    if (results.length) prompt.push({ role: "tool", content: results });
    if (content.length) prompt.push({ role: "user", content });
  }
  return prompt;
}

export function anthropicToCallOptions(
  body: MessagesRequest,
  signal: AbortSignal,
): LanguageModelV4CallOptions {
  const choice = body.tool_choice;
  return {
    prompt: anthropicToPrompt(body),
    abortSignal: signal,
    maxOutputTokens: body.max_tokens,
    ...(body.temperature === undefined ? {} : { temperature: body.temperature }),
    ...(body.top_p === undefined ? {} : { topP: body.top_p }),
    ...(body.top_k === undefined ? {} : { topK: body.top_k }),
    ...(body.stop_sequences?.length ? { stopSequences: body.stop_sequences } : {}),
    ...(body.tools?.length
      ? {
          tools: body.tools.map((t) => ({
            type: "function" as const,
            name: t.name,
            ...(t.description === undefined ? {} : { description: t.description }),
            inputSchema: t.input_schema,
          })),
        }
      : {}),
    ...(choice === undefined
      ? {}
      : {
          toolChoice:
            choice.type === "tool"
              ? { type: "tool" as const, toolName: choice.name }
              : { type: choice.type === "any" ? ("required" as const) : choice.type },
        }),
  };
}

export function anthropicStopReason(reason: UnifiedFinish | undefined): string {
  switch (reason) {
    case "length":
      return "max_tokens";
    case "tool-calls":
      return "tool_use";
    case "content-filter":
      return "refusal";
    default:
      return "end_turn";
  }
}

function usageOf(
  usage: LanguageModelV4GenerateResult["usage"] | undefined,
): AnthropicMessageResponse["usage"] {
  const t = tokensOf(usage);
  // Anthropic counts cache reads and writes apart from input_tokens.
  return {
    input_tokens: Math.max(0, t.input - t.cacheRead - t.cacheWrite),
    output_tokens: t.output,
    cache_read_input_tokens: t.cacheRead,
    cache_creation_input_tokens: t.cacheWrite,
  };
}

export function anthropicMessage(
  result: LanguageModelV4GenerateResult,
  model: string,
): AnthropicMessageResponse {
  const content: AnthropicMessageResponse["content"] = [];
  for (const part of result.content) {
    const last = content.at(-1);
    if (part.type === "text") {
      if (last?.type === "text") last.text += part.text;
      else content.push({ type: "text", text: part.text });
    } else if (part.type === "reasoning") {
      if (last?.type === "thinking") last.thinking += part.text;
      else content.push({ type: "thinking", thinking: part.text, signature: "" });
    } else if (part.type === "tool-call" && !part.providerExecuted) {
      content.push({
        type: "tool_use",
        id: part.toolCallId,
        name: part.toolName,
        input: argumentsObject(part.input),
      });
    }
  }
  return {
    id: randomId("msg_"),
    type: "message",
    role: "assistant",
    model,
    content,
    stop_reason: anthropicStopReason(result.finishReason.unified),
    stop_sequence: null,
    usage: usageOf(result.usage),
  };
}

export interface SseEvent {
  event: string;
  data: object;
}

/**
 * Turns the AI SDK's stream parts into Anthropic's events. Anthropic streams one content block at a
 * time, so text and thinking blocks open and close as the kind changes, and a tool call becomes one
 * complete tool_use block when the upstream has finished writing it (upstream tool calls may interleave).
 */
export class AnthropicEventer {
  readonly #id = randomId("msg_");
  readonly #model: string;
  #index = -1;
  #open: "text" | "thinking" | undefined;

  constructor(model: string) {
    this.#model = model;
  }

  start(): SseEvent[] {
    return [
      {
        event: "message_start",
        data: {
          type: "message_start",
          message: {
            id: this.#id,
            type: "message",
            role: "assistant",
            model: this.#model,
            content: [],
            stop_reason: null,
            stop_sequence: null,
            usage: {
              input_tokens: 0,
              output_tokens: 0,
              cache_read_input_tokens: 0,
              cache_creation_input_tokens: 0,
            },
          },
        },
      },
    ];
  }

  #close(): SseEvent[] {
    if (this.#open === undefined) return [];
    this.#open = undefined;
    return [{ event: "content_block_stop", data: { type: "content_block_stop", index: this.#index } }];
  }

  #openBlock(kind: "text" | "thinking"): SseEvent[] {
    if (this.#open === kind) return [];
    const events = this.#close();
    this.#index++;
    this.#open = kind;
    const block =
      kind === "text" ? { type: "text", text: "" } : { type: "thinking", thinking: "", signature: "" };
    events.push({
      event: "content_block_start",
      data: { type: "content_block_start", index: this.#index, content_block: block },
    });
    return events;
  }

  onPart(part: LanguageModelV4StreamPart): SseEvent[] {
    switch (part.type) {
      case "text-delta": {
        if (!part.delta) return [];
        const events = this.#openBlock("text");
        events.push({
          event: "content_block_delta",
          data: {
            type: "content_block_delta",
            index: this.#index,
            delta: { type: "text_delta", text: part.delta },
          },
        });
        return events;
      }
      case "reasoning-delta": {
        if (!part.delta) return [];
        const events = this.#openBlock("thinking");
        events.push({
          event: "content_block_delta",
          data: {
            type: "content_block_delta",
            index: this.#index,
            delta: { type: "thinking_delta", thinking: part.delta },
          },
        });
        return events;
      }
      case "tool-call": {
        if (part.providerExecuted) return [];
        const events = this.#close();
        this.#index++;
        const index = this.#index;
        events.push(
          {
            event: "content_block_start",
            data: {
              type: "content_block_start",
              index,
              content_block: { type: "tool_use", id: part.toolCallId, name: part.toolName, input: {} },
            },
          },
          {
            event: "content_block_delta",
            data: {
              type: "content_block_delta",
              index,
              delta: { type: "input_json_delta", partial_json: JSON.stringify(argumentsObject(part.input)) },
            },
          },
          { event: "content_block_stop", data: { type: "content_block_stop", index } },
        );
        return events;
      }
      case "finish": {
        const events = this.#close();
        events.push(
          {
            event: "message_delta",
            data: {
              type: "message_delta",
              delta: { stop_reason: anthropicStopReason(part.finishReason.unified), stop_sequence: null },
              usage: usageOf(part.usage),
            },
          },
          { event: "message_stop", data: { type: "message_stop" } },
        );
        return events;
      }
      case "error":
        throw part.error;
      default:
        return [];
    }
  }
}
