import { sql } from "drizzle-orm";
import {
  bigint,
  boolean,
  customType,
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
  /** The deployment its public address serves (deployments/). */
  currentDeploymentId: uuid("current_deployment_id"),
  createdBy: uuid("created_by"),
  createdAt: ts("created_at").notNull().defaultNow(),
  updatedAt: ts("updated_at").notNull().defaultNow(),
});

/** Production builds of a project (deployments/); `artifact` is an ArtifactManifest, immutable once built. */
export const deployments = pgTable("deployments", {
  id: uuid("id").primaryKey(),
  projectId: uuid("project_id").notNull(),
  number: integer("number").notNull(),
  status: text("status").notNull(),
  commitSha: text("commit_sha"),
  artifact: jsonb("artifact"),
  fileCount: integer("file_count"),
  byteCount: bigint("byte_count", { mode: "number" }),
  log: text("log").notNull().default(""),
  error: text("error"),
  createdBy: uuid("created_by"),
  createdAt: ts("created_at").notNull().defaultNow(),
  finishedAt: ts("finished_at"),
  /** External target (ADR 0024); its name and kind are kept so the record reads the same once it is removed. */
  targetId: uuid("target_id"),
  targetName: text("target_name"),
  targetKind: text("target_kind"),
  providerDeploymentId: text("provider_deployment_id"),
  url: text("url"),
});

/** An org's external deploy targets (deployments/targets/); the token sealed, never returned. */
export const deployTargets = pgTable("deploy_targets", {
  id: uuid("id").primaryKey(),
  kind: text("kind").notNull(),
  name: text("name").notNull(),
  tokenSealed: text("token_sealed").notNull(),
  tokenHint: text("token_hint").notNull(),
  teamId: text("team_id"),
  accountId: text("account_id"),
  createdBy: uuid("created_by"),
  createdAt: ts("created_at").notNull().defaultNow(),
  updatedAt: ts("updated_at").notNull().defaultNow(),
});

export const projectDeployTargets = pgTable(
  "project_deploy_targets",
  {
    projectId: uuid("project_id").notNull(),
    targetId: uuid("target_id").notNull(),
    providerProject: text("provider_project"),
    autoDeploy: boolean("auto_deploy").notNull().default(false),
    updatedAt: ts("updated_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.projectId, t.targetId] })],
);

/** Share links of a project's preview (preview/share-links.ts); the token itself is never stored. */
export const shareLinks = pgTable("share_links", {
  id: uuid("id").primaryKey(),
  projectId: uuid("project_id").notNull(),
  tokenHash: text("token_hash").notNull(),
  label: text("label").notNull().default(""),
  createdBy: uuid("created_by"),
  createdAt: ts("created_at").notNull().defaultNow(),
  expiresAt: ts("expires_at"),
  revokedAt: ts("revoked_at"),
  lastUsedAt: ts("last_used_at"),
});

/** An org's outbound webhooks (webhooks/service.ts); `secret_sealed` is SecretBox output bound to the row. */
export const webhooks = pgTable("webhooks", {
  id: uuid("id").primaryKey(),
  url: text("url").notNull(),
  families: text("families").array().notNull(),
  projectId: uuid("project_id"),
  active: boolean("active").notNull().default(true),
  secretSealed: text("secret_sealed").notNull(),
  secretHint: text("secret_hint").notNull(),
  createdBy: uuid("created_by"),
  createdAt: ts("created_at").notNull().defaultNow(),
  updatedAt: ts("updated_at").notNull().defaultNow(),
});

/** Share links of one deployment (deployments/version-shares.ts); only the token's SHA-256 is kept. */
export const deploymentShareLinks = pgTable("deployment_share_links", {
  id: uuid("id").primaryKey(),
  projectId: uuid("project_id").notNull(),
  deploymentId: uuid("deployment_id").notNull(),
  tokenHash: text("token_hash").notNull(),
  label: text("label").notNull().default(""),
  createdBy: uuid("created_by"),
  createdAt: ts("created_at").notNull().defaultNow(),
  expiresAt: ts("expires_at"),
  revokedAt: ts("revoked_at"),
  lastUsedAt: ts("last_used_at"),
});

/** A project's custom domains (domains/, ADR 0026); claimed across orgs in the shared `domain_claims`. */
export const customDomains = pgTable("custom_domains", {
  id: uuid("id").primaryKey(),
  projectId: uuid("project_id").notNull(),
  hostname: text("hostname").notNull(),
  token: text("token").notNull(),
  status: text("status").notNull().default("pending"),
  lastError: text("last_error"),
  checkedAt: ts("checked_at"),
  verifiedAt: ts("verified_at"),
  createdBy: uuid("created_by"),
  createdAt: ts("created_at").notNull().defaultNow(),
});

/** A project's environment variables (projects/env.ts); `value_sealed` is SecretBox output bound to the row. */
export const projectEnvVars = pgTable(
  "project_env_vars",
  {
    projectId: uuid("project_id").notNull(),
    name: text("name").notNull(),
    secret: boolean("secret").notNull().default(false),
    valueSealed: text("value_sealed").notNull(),
    hint: text("hint"),
    updatedBy: uuid("updated_by"),
    createdAt: ts("created_at").notNull().defaultNow(),
    updatedAt: ts("updated_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.projectId, t.name] })],
);

export const chats = pgTable("chats", {
  id: uuid("id").primaryKey(),
  projectId: uuid("project_id").notNull(),
  title: text("title").notNull(),
  mode: text("mode").notNull().default("allow"),
  model: text("model"),
  approveAll: boolean("approve_all").notNull().default(false),
  agentId: uuid("agent_id"),
  agentVersion: integer("agent_version"),
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
  agentId: uuid("agent_id"),
  agentVersion: integer("agent_version"),
  createdBy: uuid("created_by"),
  createdAt: ts("created_at").notNull().defaultNow(),
  updatedAt: ts("updated_at").notNull().defaultNow(),
});

const bytea = customType<{ data: Buffer; driverData: Buffer | Uint8Array }>({
  dataType: () => "bytea",
  fromDriver: (v) => (Buffer.isBuffer(v) ? v : Buffer.from(v)),
});

/** Images attached to a chat's messages (ADR 0041); a message's image part names one by id. */
export const chatImages = pgTable("chat_images", {
  id: uuid("id").primaryKey(),
  chatId: uuid("chat_id").notNull(),
  mediaType: text("media_type").notNull(),
  size: integer("size").notNull(),
  data: bytea("data").notNull(),
  createdBy: uuid("created_by"),
  createdAt: ts("created_at").notNull().defaultNow(),
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

/** A project's board settings (board/); the row is also the lock for structural task changes. */
export const workflows = pgTable("workflows", {
  projectId: uuid("project_id").primaryKey(),
  template: text("template").notNull(),
  nextTaskNumber: integer("next_task_number").notNull().default(1),
  createdAt: ts("created_at").notNull().defaultNow(),
  updatedAt: ts("updated_at").notNull().defaultNow(),
});

export const workflowStatuses = pgTable("workflow_statuses", {
  id: uuid("id").primaryKey(),
  projectId: uuid("project_id").notNull(),
  name: text("name").notNull(),
  group: text("status_group").notNull(),
  color: text("color").notNull(),
  position: integer("position").notNull(),
  createdAt: ts("created_at").notNull().defaultNow(),
});

export const workflowTransitions = pgTable(
  "workflow_transitions",
  {
    fromStatusId: uuid("from_status_id").notNull(),
    toStatusId: uuid("to_status_id").notNull(),
  },
  (t) => [primaryKey({ columns: [t.fromStatusId, t.toStatusId] })],
);

export const tasks = pgTable("tasks", {
  id: uuid("id").primaryKey(),
  projectId: uuid("project_id").notNull(),
  number: integer("number").notNull(),
  title: text("title").notNull(),
  description: text("description").notNull().default(""),
  statusId: uuid("status_id").notNull(),
  priority: text("priority").notNull().default("none"),
  assigneeType: text("assignee_type"),
  assigneeUserId: uuid("assignee_user_id"),
  assigneeAgentId: uuid("assignee_agent_id"),
  labels: jsonb("labels").$type<string[]>().notNull().default([]),
  parentId: uuid("parent_id"),
  /** Fractional key, COLLATE "C" in the DDL (board/tasks/position.ts). */
  position: text("position").notNull(),
  createdBy: uuid("created_by"),
  createdAt: ts("created_at").notNull().defaultNow(),
  updatedAt: ts("updated_at").notNull().defaultNow(),
});

export const taskComments = pgTable("task_comments", {
  id: uuid("id").primaryKey(),
  taskId: uuid("task_id").notNull(),
  authorType: text("author_type").notNull(),
  authorUserId: uuid("author_user_id"),
  authorRef: text("author_ref"),
  body: text("body").notNull(),
  createdAt: ts("created_at").notNull().defaultNow(),
  editedAt: ts("edited_at"),
});

export const taskActivity = pgTable("task_activity", {
  id: bigint("id", { mode: "number" }).primaryKey().default(sql`nextval('task_activity_seq')`),
  taskId: uuid("task_id").notNull(),
  actorType: text("actor_type").notNull(),
  actorUserId: uuid("actor_user_id"),
  actorRef: text("actor_ref"),
  depth: integer("depth").notNull().default(0),
  kind: text("kind").notNull(),
  fromValue: jsonb("from_value"),
  toValue: jsonb("to_value"),
  message: text("message"),
  createdAt: ts("created_at").notNull().defaultNow(),
});

export const automationRules = pgTable("automation_rules", {
  id: uuid("id").primaryKey(),
  projectId: uuid("project_id").notNull(),
  name: text("name").notNull(),
  enabled: boolean("enabled").notNull().default(true),
  trigger: jsonb("trigger").notNull(),
  conditions: jsonb("conditions").notNull().default({}),
  actions: jsonb("actions").notNull(),
  createdBy: uuid("created_by"),
  createdAt: ts("created_at").notNull().defaultNow(),
  updatedAt: ts("updated_at").notNull().defaultNow(),
});

/** A project's linked git remote (remotes/service.ts); never a credential. */
export const gitRemotes = pgTable("git_remotes", {
  projectId: uuid("project_id").primaryKey(),
  url: text("url").notNull(),
  branch: text("branch").notNull(),
  remoteCommit: text("remote_commit"),
  lastPushedCommit: text("last_pushed_commit"),
  lastSyncedAt: ts("last_synced_at"),
  conflict: jsonb("conflict"),
  hostId: uuid("host_id"),
  createdBy: uuid("created_by"),
  createdAt: ts("created_at").notNull().defaultNow(),
  updatedAt: ts("updated_at").notNull().defaultNow(),
});

/** An org's connected git host (ADR 0028): token sealed like a deploy target's, the account checked at connect. */
export const gitHosts = pgTable("git_hosts", {
  id: uuid("id").primaryKey(),
  kind: text("kind").notNull(),
  name: text("name").notNull(),
  apiUrl: text("api_url").notNull(),
  gitUrl: text("git_url").notNull(),
  login: text("login").notNull(),
  tokenSealed: text("token_sealed").notNull(),
  tokenHint: text("token_hint").notNull(),
  createdBy: uuid("created_by"),
  createdAt: ts("created_at").notNull().defaultNow(),
  updatedAt: ts("updated_at").notNull().defaultNow(),
});

/** Spend budgets (budgets/, ADR 0029); `scope_id` is null for the org's own. */
export const budgets = pgTable("budgets", {
  id: uuid("id").primaryKey(),
  scope: text("scope").notNull(),
  scopeId: uuid("scope_id"),
  period: text("period").notNull(),
  unit: text("unit").notNull(),
  hardLimit: doublePrecision("hard_limit").notNull(),
  softFraction: doublePrecision("soft_fraction").notNull().default(0.8),
  createdBy: uuid("created_by"),
  createdAt: ts("created_at").notNull().defaultNow(),
  updatedAt: ts("updated_at").notNull().defaultNow(),
});

/** Spend and reservations per budget and period (`YYYY-MM` or `run:<id>`). */
export const budgetSpend = pgTable(
  "budget_spend",
  {
    budgetId: uuid("budget_id").notNull(),
    periodKey: text("period_key").notNull(),
    spent: doublePrecision("spent").notNull().default(0),
    reserved: doublePrecision("reserved").notNull().default(0),
    softNotifiedAt: ts("soft_notified_at"),
    updatedAt: ts("updated_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.budgetId, t.periodKey] })],
);

/** Agent definitions (agents/, ADR 0035): the agent points at its current version. */
export const agents = pgTable("agents", {
  id: uuid("id").primaryKey(),
  currentVersion: integer("current_version").notNull(),
  archivedAt: ts("archived_at"),
  createdBy: uuid("created_by"),
  createdAt: ts("created_at").notNull().defaultNow(),
  updatedAt: ts("updated_at").notNull().defaultNow(),
});

export const agentVersions = pgTable(
  "agent_versions",
  {
    agentId: uuid("agent_id").notNull(),
    version: integer("version").notNull(),
    name: text("name").notNull(),
    description: text("description").notNull().default(""),
    icon: text("icon").notNull(),
    systemPrompt: text("system_prompt").notNull(),
    tools: jsonb("tools").$type<string[]>().notNull(),
    defaultModel: text("default_model"),
    defaultMode: text("default_mode"),
    stepLimit: integer("step_limit"),
    mcpServers: jsonb("mcp_servers").$type<string[]>().notNull().default([]),
    createdBy: uuid("created_by"),
    createdAt: ts("created_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.agentId, t.version] })],
);

/** An org's MCP servers (mcp-client/, ADR 0039); the headers or environment only sealed, names readable. */
export const mcpServers = pgTable("mcp_servers", {
  id: uuid("id").primaryKey(),
  name: text("name").notNull(),
  transport: text("transport").notNull(),
  url: text("url"),
  command: jsonb("command").$type<string[]>(),
  secretNames: jsonb("secret_names").$type<string[]>().notNull().default([]),
  secretsSealed: text("secrets_sealed"),
  createdBy: uuid("created_by"),
  createdAt: ts("created_at").notNull().defaultNow(),
  updatedAt: ts("updated_at").notNull().defaultNow(),
});
