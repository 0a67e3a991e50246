import { z } from "zod";
import { Id, Timestamp } from "./common.ts";

/**
 * The LLM gateway's API: providers an org configures, the models they offer, the call log, usage and
 * prices. A model is named by a ref `<provider-name>/<model-id>`; an org's provider shadows an instance
 * provider of the same name.
 */

export const LLM_PROVIDER_KINDS = [
  "openai",
  "anthropic",
  "openrouter",
  "ollama",
  "openai-compatible",
] as const;
export const LlmProviderKind = z
  .enum(LLM_PROVIDER_KINDS)
  .describe("Wire protocol; openrouter and openai-compatible speak OpenAI's chat completions");
export type LlmProviderKind = z.infer<typeof LlmProviderKind>;

/** Provider names are the first segment of a model ref, so no `/`; lowercase to keep refs unambiguous. */
export const LlmProviderName = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,39}$/, "lowercase letters, digits and hyphens; starts with a letter; ≤ 40")
  .describe("Names the provider in model refs: `<name>/<model-id>`");

// Model ids seen in the wild: `gpt-4.1-mini`, `claude-sonnet-4-5-20250929`, `llama3.1:8b`,
// `meta-llama/llama-3.1-70b-instruct` (OpenRouter), `accounts/fireworks/models/x`, `model@2024`.
export const LLM_MODEL_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:@+/-]{0,199}$/;
export const LlmModelId = z
  .string()
  .regex(LLM_MODEL_ID_PATTERN, "a model id")
  .describe("The provider's model id");

export const LLM_MODEL_REF_PATTERN = /^[a-z][a-z0-9-]{0,39}\/[A-Za-z0-9][A-Za-z0-9._:@+/-]{0,199}$/;
/**
 * Bounded but not patterned: the server checks the shape (and answers model_not_found), so route-wide
 * tests that sample bodies from the OpenAPI document reach the handler's permission and tenant checks.
 */
export const LlmModelRef = z
  .string()
  .min(1)
  .max(241)
  .describe("`<provider-name>/<model-id>`, e.g. `openai/gpt-4.1-mini`");

export const LlmSource = z.enum(["instance", "org"]).describe("instance: from the server's environment");
export type LlmSource = z.infer<typeof LlmSource>;

export const LlmConfiguredModel = z.strictObject({
  id: LlmModelId,
  contextWindow: z.number().int().min(256).max(100_000_000).optional().describe("Tokens the model takes"),
  images: z.boolean().optional().describe("Whether the model accepts images; unset: Kiln's guess (ADR 0041)"),
});
export type LlmConfiguredModel = z.infer<typeof LlmConfiguredModel>;

export const LlmProvider = z
  .object({
    id: Id,
    name: z.string(),
    kind: LlmProviderKind,
    baseUrl: z.string().nullable().describe("null: the kind's public endpoint"),
    apiKeyHint: z
      .string()
      .nullable()
      .describe("Recognisable ends of the key (`sk-…abcd`); the key is never shown"),
    models: z.array(LlmConfiguredModel).describe("Models offered besides those the provider lists itself"),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .meta({ id: "LlmProvider" });
export type LlmProvider = z.infer<typeof LlmProvider>;

const BaseUrl = z.string().min(1).max(2000).describe("http(s) URL of the API root, e.g. http://host:11434");
const ApiKey = z.string().min(1).max(2048).describe("Stored encrypted; never returned");
const ConfiguredModels = z.array(LlmConfiguredModel).max(200);

export const CreateLlmProviderBody = z.strictObject({
  name: LlmProviderName,
  kind: LlmProviderKind,
  baseUrl: BaseUrl.optional().describe("Required for ollama and openai-compatible"),
  apiKey: ApiKey.optional(),
  models: ConfiguredModels.optional(),
});
export type CreateLlmProviderBody = z.infer<typeof CreateLlmProviderBody>;

export const UpdateLlmProviderBody = z
  .strictObject({
    name: LlmProviderName.optional(),
    baseUrl: BaseUrl.nullable().optional().describe("null: back to the kind's public endpoint"),
    apiKey: ApiKey.nullable().optional().describe("null removes the key"),
    models: ConfiguredModels.optional(),
  })
  .refine((b) => Object.values(b).some((v) => v !== undefined), "nothing to update");
export type UpdateLlmProviderBody = z.infer<typeof UpdateLlmProviderBody>;

export const LlmModel = z
  .object({
    ref: z.string().describe("What to pass as `model`"),
    provider: z.string(),
    modelId: z.string(),
    source: LlmSource,
    contextWindow: z.number().int().positive(),
  })
  .meta({ id: "LlmModel" });
export type LlmModel = z.infer<typeof LlmModel>;

export const LlmProviderStatus = z.object({
  name: z.string(),
  kind: LlmProviderKind,
  source: LlmSource,
  /** Why the provider's own list is missing; its configured models are still offered. */
  listError: z.string().nullable(),
});

export const LlmModelList = z
  .object({
    defaultModel: z.string().nullable().describe("Used when a caller names no model"),
    models: z.array(LlmModel),
    providers: z.array(LlmProviderStatus),
  })
  .meta({ id: "LlmModelList" });
export type LlmModelList = z.infer<typeof LlmModelList>;

export const LlmSettings = z
  .object({
    defaultModel: z.string().nullable().describe("The org's default model ref; null: the instance's"),
    rateLimitPerMinute: z.number().int().nullable().describe("The org's own cap; null: the instance's"),
    effectiveDefaultModel: z.string().nullable(),
    effectiveRateLimitPerMinute: z.number().int().positive(),
  })
  .meta({ id: "LlmSettings" });
export type LlmSettings = z.infer<typeof LlmSettings>;

export const UpdateLlmSettingsBody = z
  .strictObject({
    defaultModel: LlmModelRef.nullable().optional(),
    rateLimitPerMinute: z
      .number()
      .int()
      .min(1)
      .max(100_000)
      .nullable()
      .optional()
      .describe("Model calls per minute for the whole org; never above the instance's limit"),
  })
  .refine((b) => Object.values(b).some((v) => v !== undefined), "nothing to update");
export type UpdateLlmSettingsBody = z.infer<typeof UpdateLlmSettingsBody>;

export const LLM_CALL_SOURCES = ["chat", "job", "proxy"] as const;
export const LlmCallSource = z.enum(LLM_CALL_SOURCES);
export type LlmCallSource = z.infer<typeof LlmCallSource>;

export const LlmCallStatus = z.enum(["ok", "error", "cancelled"]);
export type LlmCallStatus = z.infer<typeof LlmCallStatus>;

export const LlmCall = z
  .object({
    id: Id,
    projectId: Id.nullable(),
    chatId: z.string().nullable(),
    messageId: z.string().nullable(),
    jobId: z.string().nullable(),
    userId: Id.nullable(),
    source: LlmCallSource,
    provider: z.string(),
    model: z.string(),
    stream: z.boolean(),
    inputTokens: z.number().int(),
    outputTokens: z.number().int(),
    cachedInputTokens: z.number().int(),
    tokensEstimated: z
      .boolean()
      .describe("The provider reported no usage (cut or cancelled); counted from text"),
    ttftMs: z.number().int().nullable().describe("Time to the first streamed token"),
    durationMs: z.number().int(),
    costUsd: z
      .number()
      .nullable()
      .describe("Estimate from the price table; null when the model has no price"),
    status: LlmCallStatus,
    errorCode: z.string().nullable(),
    errorMessage: z.string().nullable(),
    attempts: z.number().int().describe("1 + retries after 429/5xx"),
    createdAt: Timestamp,
  })
  .meta({ id: "LlmCall" });
export type LlmCall = z.infer<typeof LlmCall>;

/** Chat, message and job ids belong to their callers; any short opaque id is accepted. */
export const LlmCallerId = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, "an id")
  .describe("Id of a chat, message or job");

export const LlmCallsQuery = z.strictObject({
  projectId: Id.optional(),
  chatId: LlmCallerId.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  before: Id.optional().describe("Id of the last call of the previous page"),
});

export const LlmCallPage = z
  .object({
    calls: z.array(LlmCall),
    nextBefore: Id.nullable().describe("Pass as `before` for the next page; null at the end"),
  })
  .meta({ id: "LlmCallPage" });
export type LlmCallPage = z.infer<typeof LlmCallPage>;

export const LlmUsageGroupBy = z.enum(["day", "model", "project"]);
export type LlmUsageGroupBy = z.infer<typeof LlmUsageGroupBy>;

export const LlmUsageQuery = z.strictObject({
  from: Timestamp.optional().describe("Inclusive; default 30 days before `to`"),
  to: Timestamp.optional().describe("Exclusive; default now"),
  groupBy: LlmUsageGroupBy.default("day"),
  projectId: Id.optional(),
});

export const LlmUsageTotals = z.object({
  calls: z.number().int(),
  errors: z.number().int(),
  inputTokens: z.number().int(),
  outputTokens: z.number().int(),
  cachedInputTokens: z.number().int(),
  costUsd: z.number().describe("Of the calls with a known price; see `unpricedCalls`"),
  unpricedCalls: z
    .number()
    .int()
    .describe("Calls to models without a price: their cost is unknown and not in `costUsd`"),
});
export type LlmUsageTotals = z.infer<typeof LlmUsageTotals>;

export const LlmUsageReport = z
  .object({
    from: Timestamp,
    to: Timestamp,
    groupBy: LlmUsageGroupBy,
    totals: LlmUsageTotals,
    rows: z.array(
      LlmUsageTotals.extend({
        key: z
          .string()
          .nullable()
          .describe("A day (YYYY-MM-DD, UTC), a model ref or a project id (null: none)"),
      }),
    ),
  })
  .meta({ id: "LlmUsageReport" });
export type LlmUsageReport = z.infer<typeof LlmUsageReport>;

const PerMTok = z.number().min(0).max(100_000).describe("USD per million tokens");

export const LlmPrice = z
  .object({
    id: Id.nullable().describe("null for built-in prices"),
    model: z.string().describe("A model ref, or a bare model id that matches any provider"),
    inputPerMTok: z.number(),
    outputPerMTok: z.number(),
    cachedInputPerMTok: z.number().nullable(),
    source: z.enum(["builtin", "org"]),
  })
  .meta({ id: "LlmPrice" });
export type LlmPrice = z.infer<typeof LlmPrice>;

export const UpsertLlmPriceBody = z.strictObject({
  model: LlmModelId.describe("A model ref (`openai/gpt-4.1`) or a bare model id (`gpt-4.1`)"),
  inputPerMTok: PerMTok,
  outputPerMTok: PerMTok,
  cachedInputPerMTok: PerMTok.nullable().optional().describe("Default: the input price"),
});
export type UpsertLlmPriceBody = z.infer<typeof UpsertLlmPriceBody>;
