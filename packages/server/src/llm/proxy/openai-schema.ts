import { z } from "zod";

/**
 * OpenAI's Chat Completions request and response, as far as Kiln translates them. The top level is
 * strict, like OpenAI's own API (an unknown parameter is a 400, not silently ignored); nested objects
 * keep what is listed. Every string is bounded; the proxy's body limit is the real cap.
 */

const MAX_TEXT = 8_000_000;
const Text = z.string().max(MAX_TEXT);
const Name = z.string().min(1).max(256);

const TextPart = z.object({ type: z.literal("text"), text: Text });
const ImagePart = z.object({
  type: z.literal("image_url"),
  image_url: z.object({
    url: z.string().min(1).max(MAX_TEXT).describe("https URL or data: URL"),
    detail: z.enum(["auto", "low", "high"]).optional(),
  }),
});
const RefusalPart = z.object({ type: z.literal("refusal"), refusal: Text });

const PlainContent = z.union([Text, z.array(TextPart).max(10_000)]);

export const OpenAiToolCall = z.object({
  id: Name,
  type: z.literal("function"),
  function: z.object({ name: Name, arguments: Text }),
});

const Message = z.discriminatedUnion("role", [
  z.object({ role: z.literal("system"), content: PlainContent, name: Name.optional() }),
  z.object({ role: z.literal("developer"), content: PlainContent, name: Name.optional() }),
  z.object({
    role: z.literal("user"),
    content: z.union([Text, z.array(z.discriminatedUnion("type", [TextPart, ImagePart])).max(10_000)]),
    name: Name.optional(),
  }),
  z.object({
    role: z.literal("assistant"),
    content: z
      .union([Text, z.array(z.discriminatedUnion("type", [TextPart, RefusalPart])).max(10_000)])
      .nullish(),
    tool_calls: z.array(OpenAiToolCall).max(1_000).optional(),
    refusal: Text.nullish(),
    name: Name.optional(),
  }),
  z.object({ role: z.literal("tool"), tool_call_id: Name, content: PlainContent }),
]);
export type OpenAiMessage = z.infer<typeof Message>;

const JsonSchemaObject = z.record(z.string().max(256), z.unknown());

const Tool = z.object({
  type: z.literal("function"),
  function: z.object({
    name: Name,
    description: z.string().max(100_000).optional(),
    parameters: JsonSchemaObject.optional(),
    strict: z.boolean().nullish(),
  }),
});

const Penalty = z.number().min(-2).max(2).nullish();
const MaxTokens = z.number().int().min(1).max(10_000_000).nullish();

export const ChatCompletionRequest = z
  .strictObject({
    model: z
      .string()
      .min(1)
      .max(241)
      .describe("A Kiln model ref (`openai/gpt-4.1-mini`), or `default` for the org's default model"),
    messages: z.array(Message).min(1).max(100_000),
    stream: z.boolean().nullish(),
    stream_options: z.object({ include_usage: z.boolean().optional() }).nullish(),
    temperature: z.number().min(0).max(2).nullish(),
    top_p: z.number().min(0).max(1).nullish(),
    max_tokens: MaxTokens,
    max_completion_tokens: MaxTokens,
    stop: z.union([z.string().max(1_000), z.array(z.string().max(1_000)).max(16)]).nullish(),
    tools: z.array(Tool).max(1_000).optional(),
    tool_choice: z
      .union([
        z.enum(["none", "auto", "required"]),
        z.object({ type: z.literal("function"), function: z.object({ name: Name }) }),
      ])
      .optional(),
    parallel_tool_calls: z.boolean().optional(),
    presence_penalty: Penalty,
    frequency_penalty: Penalty,
    seed: z.number().int().nullish(),
    n: z.literal(1).nullish().describe("Only one choice is supported"),
    response_format: z
      .discriminatedUnion("type", [
        z.object({ type: z.literal("text") }),
        z.object({ type: z.literal("json_object") }),
        z.object({
          type: z.literal("json_schema"),
          json_schema: z.object({
            name: Name,
            description: z.string().max(100_000).optional(),
            schema: JsonSchemaObject.optional(),
            strict: z.boolean().nullish(),
          }),
        }),
      ])
      .optional(),
    reasoning_effort: z.enum(["none", "minimal", "low", "medium", "high", "xhigh"]).nullish(),
    user: z.string().max(256).optional(),
    metadata: z.record(z.string().max(64), z.string().max(512)).nullish(),
    store: z.boolean().nullish(),
    logprobs: z.literal(false).nullish().describe("Not supported"),
    service_tier: z.string().max(32).nullish(),
    prompt_cache_key: z.string().max(256).optional(),
    safety_identifier: z.string().max(256).optional(),
  })
  .meta({ id: "ChatCompletionRequest" });
export type ChatCompletionRequest = z.infer<typeof ChatCompletionRequest>;

export const OpenAiUsage = z.object({
  prompt_tokens: z.number().int(),
  completion_tokens: z.number().int(),
  total_tokens: z.number().int(),
  prompt_tokens_details: z.object({ cached_tokens: z.number().int() }),
});

export const ChatCompletion = z
  .object({
    id: z.string(),
    object: z.literal("chat.completion"),
    created: z.number().int(),
    model: z.string(),
    choices: z.array(
      z.object({
        index: z.number().int(),
        message: z.object({
          role: z.literal("assistant"),
          content: z.string().nullable(),
          refusal: z.null(),
          reasoning_content: z.string().optional(),
          tool_calls: z.array(OpenAiToolCall).optional(),
        }),
        finish_reason: z.string(),
        logprobs: z.null(),
      }),
    ),
    usage: OpenAiUsage,
  })
  .meta({
    id: "ChatCompletion",
    description:
      "With `stream: true`, `chat.completion.chunk` server-sent events instead, ending in `[DONE]`",
  });
export type ChatCompletion = z.infer<typeof ChatCompletion>;
