import { sql } from "drizzle-orm";
import {
  bigint,
  boolean,
  customType,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uuid,
} from "drizzle-orm/pg-core";

/** Tables of the shared layer (schema `public`); the DDL lives in migrations/shared. */
const ts = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });

export const users = pgTable("users", {
  id: uuid("id").primaryKey(),
  email: text("email").notNull(),
  name: text("name").notNull(),
  passwordHash: text("password_hash").notNull(),
  emailVerifiedAt: ts("email_verified_at"),
  createdAt: ts("created_at").notNull().defaultNow(),
  updatedAt: ts("updated_at").notNull().defaultNow(),
  deletedAt: ts("deleted_at"),
  suspendedAt: ts("suspended_at"),
});

export const emailVerifications = pgTable("email_verifications", {
  id: uuid("id").primaryKey(),
  userId: uuid("user_id").notNull(),
  email: text("email").notNull(),
  linkHash: text("link_hash").notNull(),
  codeHash: text("code_hash").notNull(),
  codeAttempts: integer("code_attempts").notNull().default(0),
  codeExpiresAt: ts("code_expires_at").notNull(),
  expiresAt: ts("expires_at").notNull(),
  createdAt: ts("created_at").notNull().defaultNow(),
});

export const passwordResets = pgTable("password_resets", {
  id: uuid("id").primaryKey(),
  userId: uuid("user_id").notNull(),
  email: text("email").notNull(),
  tokenHash: text("token_hash").notNull(),
  expiresAt: ts("expires_at").notNull(),
  createdAt: ts("created_at").notNull().defaultNow(),
});

export const orgs = pgTable("orgs", {
  id: uuid("id").primaryKey(),
  slug: text("slug").notNull(),
  name: text("name").notNull(),
  schemaName: text("schema_name").notNull(),
  schemaVersion: integer("schema_version").notNull().default(0),
  personal: boolean("personal").notNull().default(false),
  createdBy: uuid("created_by"),
  createdAt: ts("created_at").notNull().defaultNow(),
  updatedAt: ts("updated_at").notNull().defaultNow(),
});

export const memberships = pgTable(
  "memberships",
  {
    orgId: uuid("org_id").notNull(),
    userId: uuid("user_id").notNull(),
    role: text("role").notNull(),
    createdAt: ts("created_at").notNull().defaultNow(),
    viaSso: boolean("via_sso").notNull().default(false),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.userId] })],
);

export const sessions = pgTable("sessions", {
  id: uuid("id").primaryKey(),
  userId: uuid("user_id").notNull(),
  createdAt: ts("created_at").notNull().defaultNow(),
  lastUsedAt: ts("last_used_at").notNull().defaultNow(),
  expiresAt: ts("expires_at").notNull(),
  revokedAt: ts("revoked_at"),
  revokedReason: text("revoked_reason"),
  userAgent: text("user_agent"),
  ip: text("ip"),
  ssoProvider: text("sso_provider"),
  ssoRefreshSealed: text("sso_refresh_sealed"),
});

export const refreshTokens = pgTable("refresh_tokens", {
  id: uuid("id").primaryKey(),
  sessionId: uuid("session_id").notNull(),
  tokenHash: text("token_hash").notNull(),
  createdAt: ts("created_at").notNull().defaultNow(),
  expiresAt: ts("expires_at").notNull(),
  usedAt: ts("used_at"),
});

export const apiTokens = pgTable("api_tokens", {
  id: uuid("id").primaryKey(),
  userId: uuid("user_id").notNull(),
  name: text("name").notNull(),
  prefix: text("prefix").notNull(),
  tokenHash: text("token_hash").notNull(),
  createdAt: ts("created_at").notNull().defaultNow(),
  lastUsedAt: ts("last_used_at"),
  expiresAt: ts("expires_at"),
  revokedAt: ts("revoked_at"),
});

export const invitations = pgTable("invitations", {
  id: uuid("id").primaryKey(),
  orgId: uuid("org_id").notNull(),
  email: text("email").notNull(),
  role: text("role").notNull(),
  tokenHash: text("token_hash").notNull(),
  invitedBy: uuid("invited_by").notNull(),
  createdAt: ts("created_at").notNull().defaultNow(),
  expiresAt: ts("expires_at").notNull(),
  acceptedAt: ts("accepted_at"),
  acceptedBy: uuid("accepted_by"),
  revokedAt: ts("revoked_at"),
});

export const rateLimits = pgTable("rate_limits", {
  key: text("key").primaryKey(),
  windowStart: ts("window_start").notNull(),
  count: integer("count").notNull(),
});

export const agentRuns = pgTable("agent_runs", {
  messageId: uuid("message_id").primaryKey(),
  orgId: uuid("org_id").notNull(),
  chatId: uuid("chat_id").notNull(),
  /** Who started the turn (null for turns from before the column). */
  userId: uuid("user_id"),
  owner: text("owner").notNull(),
  startedAt: ts("started_at").notNull().defaultNow(),
  heartbeatAt: ts("heartbeat_at").notNull().defaultNow(),
});

export const workerTokens = pgTable("worker_tokens", {
  id: uuid("id").primaryKey(),
  orgId: uuid("org_id").notNull(),
  name: text("name").notNull(),
  prefix: text("prefix").notNull(),
  tokenHash: text("token_hash").notNull(),
  createdBy: uuid("created_by"),
  createdAt: ts("created_at").notNull().defaultNow(),
  lastUsedAt: ts("last_used_at"),
  revokedAt: ts("revoked_at"),
});

export const workers = pgTable("workers", {
  id: uuid("id").primaryKey(),
  orgId: uuid("org_id"),
  tokenId: uuid("token_id"),
  name: text("name").notNull(),
  version: text("version").notNull(),
  concurrency: integer("concurrency").notNull(),
  connectedAt: ts("connected_at").notNull().defaultNow(),
  lastSeenAt: ts("last_seen_at").notNull().defaultNow(),
  disconnectedAt: ts("disconnected_at"),
});

export const jobs = pgTable("jobs", {
  id: uuid("id").primaryKey(),
  orgId: uuid("org_id").notNull(),
  projectId: uuid("project_id").notNull(),
  taskId: uuid("task_id"),
  kind: text("kind").notNull(),
  instructions: text("instructions").notNull(),
  state: text("state").notNull().default("queued"),
  attempts: integer("attempts").notNull().default(0),
  maxAttempts: integer("max_attempts").notNull(),
  runAfter: ts("run_after").notNull().defaultNow(),
  workerId: uuid("worker_id"),
  leaseExpiresAt: ts("lease_expires_at"),
  tokenHash: text("token_hash"),
  cancelRequested: boolean("cancel_requested").notNull().default(false),
  cancelRequestedAt: ts("cancel_requested_at"),
  failureCode: text("failure_code"),
  failureMessage: text("failure_message"),
  result: jsonb("result"),
  lastSeq: integer("last_seq").notNull().default(0),
  requestedBy: uuid("requested_by"),
  agentId: uuid("agent_id"),
  agentVersion: integer("agent_version"),
  agentSpec: jsonb("agent_spec"),
  createdAt: ts("created_at").notNull().defaultNow(),
  updatedAt: ts("updated_at").notNull().defaultNow(),
  startedAt: ts("started_at"),
  finishedAt: ts("finished_at"),
  outcomeAppliedAt: ts("outcome_applied_at"),
  eventsCompactedAt: ts("events_compacted_at"),
});

export const jobEvents = pgTable(
  "job_events",
  {
    jobId: uuid("job_id").notNull(),
    seq: integer("seq").notNull(),
    attempt: integer("attempt").notNull(),
    event: jsonb("event").notNull(),
    createdAt: ts("created_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.jobId, t.seq] })],
);

export const previewHandoffs = pgTable("preview_handoffs", {
  tokenId: uuid("token_id").primaryKey(),
  expiresAt: ts("expires_at").notNull(),
});

/** The webhook delivery queue of every org (webhooks/dispatcher.ts). */
export const webhookDeliveries = pgTable("webhook_deliveries", {
  id: uuid("id").primaryKey(),
  orgId: uuid("org_id").notNull(),
  webhookId: uuid("webhook_id").notNull(),
  event: text("event").notNull(),
  payload: jsonb("payload").notNull(),
  state: text("state").notNull().default("pending"),
  attempts: integer("attempts").notNull().default(0),
  nextAttemptAt: ts("next_attempt_at"),
  leaseExpiresAt: ts("lease_expires_at"),
  lastStatus: integer("last_status"),
  lastError: text("last_error"),
  createdAt: ts("created_at").notNull().defaultNow(),
  finishedAt: ts("finished_at"),
});

/** Custom domains of every org by hostname (domains/, ADR 0026); the org's own row is `custom_domains`. */
export const domainClaims = pgTable("domain_claims", {
  domainId: uuid("domain_id").primaryKey(),
  hostname: text("hostname").notNull(),
  orgId: uuid("org_id").notNull(),
  projectId: uuid("project_id").notNull(),
  verified: boolean("verified").notNull().default(false),
  createdAt: ts("created_at").notNull().defaultNow(),
});

/** Single sign-on identities linked to accounts (auth/oidc/). */
export const userIdentities = pgTable(
  "user_identities",
  {
    provider: text("provider").notNull(),
    subject: text("subject").notNull(),
    userId: uuid("user_id").notNull(),
    email: text("email"),
    createdAt: ts("created_at").notNull().defaultNow(),
    lastUsedAt: ts("last_used_at"),
  },
  (t) => [primaryKey({ columns: [t.provider, t.subject] })],
);

/** An org's single sign-on binding (auth/oidc/org-sso.ts). */
export const orgSso = pgTable("org_sso", {
  orgId: uuid("org_id").primaryKey(),
  provider: text("provider").notNull(),
  defaultRole: text("default_role").notNull(),
  groupRoles: jsonb("group_roles").notNull().default({}),
  updatedAt: ts("updated_at").notNull().defaultNow(),
});

export const orgSsoDomains = pgTable(
  "org_sso_domains",
  {
    orgId: uuid("org_id").notNull(),
    domain: text("domain").notNull(),
    token: text("token").notNull(),
    verifiedAt: ts("verified_at"),
    lastError: text("last_error"),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.domain] })],
);

export const notifications = pgTable("notifications", {
  id: uuid("id").primaryKey(),
  userId: uuid("user_id").notNull(),
  orgId: uuid("org_id"),
  kind: text("kind").notNull(),
  title: text("title").notNull(),
  body: text("body").notNull(),
  link: text("link").notNull(),
  inApp: boolean("in_app").notNull().default(true),
  readAt: ts("read_at"),
  createdAt: ts("created_at").notNull().defaultNow(),
  emailDueAt: ts("email_due_at"),
  emailedAt: ts("emailed_at"),
});

export const notificationPreferences = pgTable(
  "notification_preferences",
  {
    userId: uuid("user_id").notNull(),
    kind: text("kind").notNull(),
    channel: text("channel").notNull(),
    enabled: boolean("enabled").notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.kind, t.channel] })],
);

/** Every org's audit log (audit/, ADR 0033): append-only (a trigger refuses updates and deletes). */
export const auditEvents = pgTable("audit_events", {
  // bigserial in the migration: a bigint whose default is its sequence.
  seq: bigint("seq", { mode: "number" }).primaryKey().default(sql`nextval('audit_events_seq_seq')`),
  id: uuid("id").notNull(),
  /** Null: the instance administrator's own action (ADR 0034), in no org's log. */
  orgId: uuid("org_id"),
  at: ts("at").notNull().defaultNow(),
  action: text("action").notNull(),
  actorType: text("actor_type").notNull(),
  actorUserId: uuid("actor_user_id"),
  actorEmail: text("actor_email"),
  projectId: uuid("project_id"),
  targetType: text("target_type"),
  targetId: text("target_id"),
  targetLabel: text("target_label"),
  data: jsonb("data").$type<Record<string, unknown>>().notNull().default({}),
  ip: text("ip"),
});

/** Instance-wide settings an instance administrator changes at run time (admin/): one JSON value a key. */
export const instanceSettings = pgTable("instance_settings", {
  key: text("key").primaryKey(),
  value: jsonb("value").notNull(),
  updatedBy: uuid("updated_by"),
  updatedAt: ts("updated_at").notNull().defaultNow(),
});

/** Bytes (bytea): node-postgres gives a Buffer, PGlite a Uint8Array; both read back as a Buffer. */
const bytea = customType<{ data: Buffer; driverData: Uint8Array }>({
  dataType: () => "bytea",
  fromDriver: (value) => Buffer.from(value),
});

/** The marketplace (ADR 0040): instance-wide template listings, their versions (the files as a zip), installs. */
export const marketplaceListings = pgTable("marketplace_listings", {
  id: uuid("id").primaryKey(),
  orgId: uuid("org_id").notNull(),
  projectId: uuid("project_id"),
  name: text("name").notNull(),
  description: text("description").notNull().default(""),
  template: text("template").notNull(),
  visibility: text("visibility").notNull(),
  approvedAt: ts("approved_at"),
  approvedBy: uuid("approved_by"),
  latestVersion: integer("latest_version").notNull().default(0),
  installs: integer("installs").notNull().default(0),
  createdAt: ts("created_at").notNull().defaultNow(),
  updatedAt: ts("updated_at").notNull().defaultNow(),
});

export const marketplaceVersions = pgTable(
  "marketplace_versions",
  {
    listingId: uuid("listing_id").notNull(),
    version: integer("version").notNull(),
    manifest: jsonb("manifest").notNull(),
    readme: text("readme"),
    archive: bytea("archive").notNull(),
    createdBy: uuid("created_by"),
    createdAt: ts("created_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.listingId, t.version] })],
);

export const marketplaceInstalls = pgTable(
  "marketplace_installs",
  {
    orgId: uuid("org_id").notNull(),
    projectId: uuid("project_id").notNull(),
    listingId: uuid("listing_id").notNull(),
    version: integer("version").notNull(),
    installedAt: ts("installed_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.projectId] })],
);
