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
import { imagePart, parseArguments, randomId, type UnifiedFinish } from "./common.ts";
import type { ChatCompletion, ChatCompletionRequest, OpenAiMessage } from "./openai-schema.ts";

/** OpenAI Chat Completions ⇄ the AI SDK's language model call, so any upstream serves this API. */

type Content = string | Array<{ type: "text"; text: string } | { type: string }> | null | undefined;

function textOf(content: Content): string {
  if (content == null) return "";
  if (typeof content === "string") return content;
  return content.map((p) => ("text" in p && typeof p.text === "string" ? p.text : "")).join("");
}

export function openAiToPrompt(messages: OpenAiMessage[]): LanguageModelV4Prompt {
  const prompt: LanguageModelV4Prompt = [];
  const toolNames = new Map<string, string>();
  for (const m of messages) {
    switch (m.role) {
      case "system":
      case "developer":
        prompt.push({ role: "system", content: textOf(m.content) });
        break;
      case "user":
        prompt.push({
          role: "user",
          content:
            typeof m.content === "string"
              ? [{ type: "text", text: m.content }]
              : m.content.map((p) =>
                  p.type === "text" ? { type: "text", text: p.text } : imagePart(p.image_url.url),
                ),
        });
        break;
      case "assistant": {
        const content: Extract<LanguageModelV4Message, { role: "assistant" }>["content"] = [];
        const text = textOf(m.content);
        if (text) content.push({ type: "text", text });
        for (const call of m.tool_calls ?? []) {
          toolNames.set(call.id, call.function.name);
          content.push({
            type: "tool-call",
            toolCallId: call.id,
            toolName: call.function.name,
            input: parseArguments(call.function.arguments),
          });
        }
        prompt.push({ role: "assistant", content });
        break;
      }
      case "tool": {
        const toolName = toolNames.get(m.tool_call_id);
        if (!toolName) {
          throw new BadRequestError(
            "validation_failed",
            `tool message answers tool_call_id "${m.tool_call_id}", which no earlier assistant message called`,
          );
        }
        const part: LanguageModelV4ToolResultPart = {
          type: "tool-result",
          toolCallId: m.tool_call_id,
          toolName,
          output: { type: "text", value: textOf(m.content) },
        };
        const last = prompt.at(-1);
        if (last?.role === "tool") last.content.push(part);
        else prompt.push({ role: "tool", content: [part] });
        break;
      }
    }
  }
  return prompt;
}

export function openAiToCallOptions(
  body: ChatCompletionRequest,
  signal: AbortSignal,
): LanguageModelV4CallOptions {
  const stop = body.stop == null ? undefined : typeof body.stop === "string" ? [body.stop] : body.stop;
  const maxTokens = body.max_completion_tokens ?? body.max_tokens;
  const choice = body.tool_choice;
  const format = body.response_format;
  return {
    prompt: openAiToPrompt(body.messages),
    abortSignal: signal,
    ...(maxTokens == null ? {} : { maxOutputTokens: maxTokens }),
    ...(body.temperature == null ? {} : { temperature: body.temperature }),
    ...(body.top_p == null ? {} : { topP: body.top_p }),
    ...(body.presence_penalty == null ? {} : { presencePenalty: body.presence_penalty }),
    ...(body.frequency_penalty == null ? {} : { frequencyPenalty: body.frequency_penalty }),
    ...(body.seed == null ? {} : { seed: body.seed }),
    ...(stop ? { stopSequences: stop } : {}),
    ...(body.reasoning_effort == null ? {} : { reasoning: body.reasoning_effort }),
    ...(body.tools?.length
      ? {
          tools: body.tools.map((t) => ({
            type: "function" as const,
            name: t.function.name,
            ...(t.function.description === undefined ? {} : { description: t.function.description }),
            inputSchema: t.function.parameters ?? { type: "object", properties: {} },
            ...(t.function.strict == null ? {} : { strict: t.function.strict }),
          })),
        }
      : {}),
    ...(choice === undefined
      ? {}
      : {
          toolChoice:
            typeof choice === "string"
              ? { type: choice }
              : { type: "tool" as const, toolName: choice.function.name },
        }),
    ...(format === undefined || format.type === "text"
      ? {}
      : {
          responseFormat:
            format.type === "json_object"
              ? { type: "json" as const }
              : {
                  type: "json" as const,
                  name: format.json_schema.name,
                  ...(format.json_schema.schema ? { schema: format.json_schema.schema } : {}),
                  ...(format.json_schema.description ? { description: format.json_schema.description } : {}),
                },
        }),
  };
}

export function openAiFinish(reason: UnifiedFinish | undefined): string {
  switch (reason) {
    case "length":
      return "length";
    case "tool-calls":
      return "tool_calls";
    case "content-filter":
      return "content_filter";
    default:
      return "stop";
  }
}

function usageOf(usage: LanguageModelV4GenerateResult["usage"] | undefined): ChatCompletion["usage"] {
  const t = tokensOf(usage);
  return {
    prompt_tokens: t.input,
    completion_tokens: t.output,
    total_tokens: t.input + t.output,
    prompt_tokens_details: { cached_tokens: t.cacheRead },
  };
}

export function openAiCompletion(result: LanguageModelV4GenerateResult, model: string): ChatCompletion {
  let text = "";
  let reasoning = "";
  const toolCalls: NonNullable<ChatCompletion["choices"][number]["message"]["tool_calls"]> = [];
  for (const part of result.content) {
    if (part.type === "text") text += part.text;
    else if (part.type === "reasoning") reasoning += part.text;
    else if (part.type === "tool-call" && !part.providerExecuted) {
      toolCalls.push({
        id: part.toolCallId,
        type: "function",
        function: { name: part.toolName, arguments: part.input },
      });
    }
  }
  return {
    id: randomId("chatcmpl-"),
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [
      {
        index: 0,
        message: {
          role: "assistant",
          content: text === "" && toolCalls.length > 0 ? null : text,
          refusal: null,
          ...(reasoning ? { reasoning_content: reasoning } : {}),
          ...(toolCalls.length ? { tool_calls: toolCalls } : {}),
        },
        finish_reason: openAiFinish(result.finishReason.unified),
        logprobs: null,
      },
    ],
    usage: usageOf(result.usage),
  };
}

/**
 * Turns the AI SDK's stream parts into `chat.completion.chunk` objects. Tool calls get an index in the
 * order they start; their arguments stream as they arrive, or whole when the upstream sent them whole.
 */
export class OpenAiChunker {
  readonly #id = randomId("chatcmpl-");
  readonly #created = Math.floor(Date.now() / 1000);
  readonly #model: string;
  readonly #includeUsage: boolean;
  readonly #tools = new Map<string, { index: number; streamed: number }>();

  constructor(model: string, includeUsage: boolean) {
    this.#model = model;
    this.#includeUsage = includeUsage;
  }

  #chunk(delta: Record<string, unknown>, finishReason: string | null = null) {
    return {
      id: this.#id,
      object: "chat.completion.chunk",
      created: this.#created,
      model: this.#model,
      choices: [{ index: 0, delta, finish_reason: finishReason, logprobs: null }],
    };
  }

  start(): object {
    return this.#chunk({ role: "assistant", content: "", refusal: null });
  }

  /** Chunks for one part (often none); an `error` part throws, for the caller's error event. */
  onPart(part: LanguageModelV4StreamPart): object[] {
    switch (part.type) {
      case "text-delta":
        return part.delta ? [this.#chunk({ content: part.delta })] : [];
      case "reasoning-delta":
        return part.delta ? [this.#chunk({ reasoning_content: part.delta })] : [];
      case "tool-input-start": {
        if (part.providerExecuted) return [];
        const index = this.#tools.size;
        this.#tools.set(part.id, { index, streamed: 0 });
        return [
          this.#chunk({
            tool_calls: [
              { index, id: part.id, type: "function", function: { name: part.toolName, arguments: "" } },
            ],
          }),
        ];
      }
      case "tool-input-delta": {
        const tool = this.#tools.get(part.id);
        if (!tool || !part.delta) return [];
        tool.streamed += part.delta.length;
        return [this.#chunk({ tool_calls: [{ index: tool.index, function: { arguments: part.delta } }] })];
      }
      case "tool-call": {
        if (part.providerExecuted) return [];
        const tool = this.#tools.get(part.toolCallId);
        if (!tool) {
          const index = this.#tools.size;
          this.#tools.set(part.toolCallId, { index, streamed: part.input.length });
          return [
            this.#chunk({
              tool_calls: [
                {
                  index,
                  id: part.toolCallId,
                  type: "function",
                  function: { name: part.toolName, arguments: part.input },
                },
              ],
            }),
          ];
        }
        if (tool.streamed > 0 || part.input === "") return [];
        tool.streamed = part.input.length;
        return [this.#chunk({ tool_calls: [{ index: tool.index, function: { arguments: part.input } }] })];
      }
      case "finish": {
        const chunks: object[] = [this.#chunk({}, openAiFinish(part.finishReason.unified))];
        if (this.#includeUsage) {
          chunks.push({
            id: this.#id,
            object: "chat.completion.chunk",
            created: this.#created,
            model: this.#model,
            choices: [],
            usage: usageOf(part.usage),
          });
        }
        return chunks;
      }
      case "error":
        throw part.error;
      default:
        return [];
    }
  }
}
