import {
  boolean,
  doublePrecision,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  smallint,
  text,
  timestamp,
  uuid,
} from "drizzle-orm/pg-core";

/**
 * Tables of the tenant layer. They carry no schema: queries run inside `tenantTx`, whose
 * `SET LOCAL search_path` points unqualified names at one org's schema. DDL: migrations/tenant.
 */
const ts = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });

export const projects = pgTable("projects", {
  id: uuid("id").primaryKey(),
  slug: text("slug").notNull(),
  name: text("name").notNull(),
  description: text("description").notNull().default(""),
  template: text("template").notNull().default("react-vite"),
  previewPublic: boolean("preview_public").notNull().default(false),
  createdBy: uuid("created_by"),
  createdAt: ts("created_at").notNull().defaultNow(),
  updatedAt: ts("updated_at").notNull().defaultNow(),
});

export const chats = pgTable("chats", {
  id: uuid("id").primaryKey(),
  projectId: uuid("project_id").notNull(),
  title: text("title").notNull(),
  mode: text("mode").notNull().default("allow"),
  model: text("model"),
  approveAll: boolean("approve_all").notNull().default(false),
  createdBy: uuid("created_by"),
  createdAt: ts("created_at").notNull().defaultNow(),
  updatedAt: ts("updated_at").notNull().defaultNow(),
});

export const chatMessages = pgTable("chat_messages", {
  id: uuid("id").primaryKey(),
  chatId: uuid("chat_id").notNull(),
  role: text("role").notNull(),
  parts: jsonb("parts").notNull().default([]),
  status: text("status").notNull(),
  reason: text("reason"),
  detail: text("detail"),
  model: text("model"),
  usage: jsonb("usage"),
  checkpointSha: text("checkpoint_sha"),
  createdBy: uuid("created_by"),
  createdAt: ts("created_at").notNull().defaultNow(),
  updatedAt: ts("updated_at").notNull().defaultNow(),
});

export const chatEvents = pgTable(
  "chat_events",
  {
    messageId: uuid("message_id").notNull(),
    seq: integer("seq").notNull(),
    event: jsonb("event").notNull(),
    createdAt: ts("created_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.messageId, t.seq] })],
);

/** An org's own model providers (llm/); `api_key_sealed` is SecretBox output bound to the row. */
export const llmProviders = pgTable("llm_providers", {
  id: uuid("id").primaryKey(),
  name: text("name").notNull(),
  kind: text("kind").notNull(),
  baseUrl: text("base_url"),
  apiKeySealed: text("api_key_sealed"),
  apiKeyHint: text("api_key_hint"),
  models: jsonb("models").notNull().default([]),
  createdBy: uuid("created_by"),
  createdAt: ts("created_at").notNull().defaultNow(),
  updatedAt: ts("updated_at").notNull().defaultNow(),
});

export const llmPrices = pgTable("llm_prices", {
  id: uuid("id").primaryKey(),
  model: text("model").notNull(),
  inputPerMTok: doublePrecision("input_per_mtok").notNull(),
  outputPerMTok: doublePrecision("output_per_mtok").notNull(),
  cachedInputPerMTok: doublePrecision("cached_input_per_mtok"),
  updatedBy: uuid("updated_by"),
  createdAt: ts("created_at").notNull().defaultNow(),
  updatedAt: ts("updated_at").notNull().defaultNow(),
});

export const llmSettings = pgTable("llm_settings", {
  id: smallint("id").primaryKey().default(1),
  defaultModel: text("default_model"),
  rateLimitPerMinute: integer("rate_limit_per_minute"),
  updatedAt: ts("updated_at").notNull().defaultNow(),
});

export const llmCalls = pgTable("llm_calls", {
  id: uuid("id").primaryKey(),
  projectId: uuid("project_id"),
  chatId: text("chat_id"),
  messageId: text("message_id"),
  jobId: text("job_id"),
  userId: uuid("user_id"),
  source: text("source").notNull(),
  provider: text("provider").notNull(),
  model: text("model").notNull(),
  stream: boolean("stream").notNull(),
  inputTokens: integer("input_tokens").notNull().default(0),
  outputTokens: integer("output_tokens").notNull().default(0),
  cachedInputTokens: integer("cached_input_tokens").notNull().default(0),
  tokensEstimated: boolean("tokens_estimated").notNull().default(false),
  ttftMs: integer("ttft_ms"),
  durationMs: integer("duration_ms").notNull(),
  costUsd: doublePrecision("cost_usd"),
  status: text("status").notNull(),
  errorCode: text("error_code"),
  errorMessage: text("error_message"),
  attempts: integer("attempts").notNull().default(1),
  createdAt: ts("created_at").notNull().defaultNow(),
});
