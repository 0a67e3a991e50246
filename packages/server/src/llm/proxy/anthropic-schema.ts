import { z } from "zod";

/**
 * Anthropic's Messages request and response, as far as Kiln translates them. Strict at the top level
 * (Anthropic refuses unknown fields too); every string bounded.
 */

const MAX_TEXT = 8_000_000;
const Text = z.string().max(MAX_TEXT);
const Name = z.string().min(1).max(256);
// Prompt caching hints; accepted and dropped (the upstream may not be Anthropic).
const CacheControl = z
  .object({ type: z.literal("ephemeral"), ttl: z.enum(["5m", "1h"]).optional() })
  .nullish();

const TextBlock = z.object({ type: z.literal("text"), text: Text, cache_control: CacheControl });
const ImageBlock = z.object({
  type: z.literal("image"),
  source: z.discriminatedUnion("type", [
    z.object({
      type: z.literal("base64"),
      media_type: z.enum(["image/jpeg", "image/png", "image/gif", "image/webp"]),
      data: z.string().max(MAX_TEXT),
    }),
    z.object({ type: z.literal("url"), url: z.string().min(1).max(8_192) }),
  ]),
  cache_control: CacheControl,
});
const ToolUseBlock = z.object({
  type: z.literal("tool_use"),
  id: Name,
  name: Name,
  input: z.record(z.string().max(1_000), z.unknown()),
  cache_control: CacheControl,
});
const ToolResultBlock = z.object({
  type: z.literal("tool_result"),
  tool_use_id: Name,
  content: z
    .union([Text, z.array(z.discriminatedUnion("type", [TextBlock, ImageBlock])).max(10_000)])
    .optional(),
  is_error: z.boolean().optional(),
  cache_control: CacheControl,
});
const ThinkingBlock = z.object({
  type: z.literal("thinking"),
  thinking: Text,
  signature: z.string().max(MAX_TEXT),
});
const RedactedThinkingBlock = z.object({
  type: z.literal("redacted_thinking"),
  data: z.string().max(MAX_TEXT),
});

const Block = z.discriminatedUnion("type", [
  TextBlock,
  ImageBlock,
  ToolUseBlock,
  ToolResultBlock,
  ThinkingBlock,
  RedactedThinkingBlock,
]);
export type AnthropicBlock = z.infer<typeof Block>;

const Message = z.object({
  role: z.enum(["user", "assistant"]),
  content: z.union([Text, z.array(Block).max(10_000)]),
});
export type AnthropicMessage = z.infer<typeof Message>;

const Tool = z.object({
  type: z.literal("custom").optional(),
  name: Name,
  description: z.string().max(100_000).optional(),
  input_schema: z.record(z.string().max(256), z.unknown()),
  cache_control: CacheControl,
});

export const MessagesRequest = z
  .strictObject({
    model: z
      .string()
      .min(1)
      .max(241)
      .describe("A Kiln model ref (`anthropic/claude-sonnet-4-5`), or `default` for the org's default model"),
    max_tokens: z.number().int().min(1).max(10_000_000),
    messages: z.array(Message).min(1).max(100_000),
    system: z.union([Text, z.array(TextBlock).max(1_000)]).optional(),
    stream: z.boolean().optional(),
    temperature: z.number().min(0).max(1).optional(),
    top_p: z.number().min(0).max(1).optional(),
    top_k: z.number().int().min(0).optional(),
    stop_sequences: z.array(z.string().max(1_000)).max(16).optional(),
    tools: z.array(Tool).max(1_000).optional(),
    tool_choice: z
      .discriminatedUnion("type", [
        z.object({ type: z.literal("auto"), disable_parallel_tool_use: z.boolean().optional() }),
        z.object({ type: z.literal("any"), disable_parallel_tool_use: z.boolean().optional() }),
        z.object({ type: z.literal("none") }),
        z.object({ type: z.literal("tool"), name: Name, disable_parallel_tool_use: z.boolean().optional() }),
      ])
      .optional(),
    metadata: z.object({ user_id: z.string().max(256).nullish() }).optional(),
    thinking: z
      .discriminatedUnion("type", [
        z.object({ type: z.literal("enabled"), budget_tokens: z.number().int().min(0) }),
        z.object({ type: z.literal("disabled") }),
        z.object({ type: z.literal("adaptive") }),
      ])
      .optional(),
    service_tier: z.enum(["auto", "standard_only"]).optional(),
  })
  .meta({ id: "MessagesRequest" });
export type MessagesRequest = z.infer<typeof MessagesRequest>;

export const AnthropicUsage = z.object({
  input_tokens: z.number().int(),
  output_tokens: z.number().int(),
  cache_read_input_tokens: z.number().int(),
  cache_creation_input_tokens: z.number().int(),
});

export const AnthropicResponseBlock = z.discriminatedUnion("type", [
  z.object({ type: z.literal("text"), text: z.string() }),
  z.object({ type: z.literal("thinking"), thinking: z.string(), signature: z.string() }),
  z.object({
    type: z.literal("tool_use"),
    id: z.string(),
    name: z.string(),
    input: z.record(z.string(), z.unknown()),
  }),
]);

export const AnthropicMessageResponse = z
  .object({
    id: z.string(),
    type: z.literal("message"),
    role: z.literal("assistant"),
    model: z.string(),
    content: z.array(AnthropicResponseBlock),
    stop_reason: z.string(),
    stop_sequence: z.null(),
    usage: AnthropicUsage,
  })
  .meta({
    id: "AnthropicMessage",
    description: "With `stream: true`, Anthropic's server-sent events (message_start … message_stop) instead",
  });
export type AnthropicMessageResponse = z.infer<typeof AnthropicMessageResponse>;
