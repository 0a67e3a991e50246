import { z } from "zod";
import { Id, Timestamp } from "./common.ts";

/**
 * An org's audit log (ADR 0033): who did what, append-only, written in the same transaction as the change it
 * records. Never a secret's value: names, ids, digests and outcomes only.
 */

export const AUDIT_ACTIONS = [
  // People and access
  "auth.signed_in",
  "member.joined",
  "member.role_changed",
  "member.removed",
  "member.left",
  "invitation.created",
  "invitation.revoked",
  "token.created",
  "token.revoked",
  "worker_token.created",
  "worker_token.revoked",
  // The org and its settings
  "org.created",
  "org.updated",
  "org.deleted",
  "sso.updated",
  "sso.removed",
  "llm.provider_created",
  "llm.provider_updated",
  "llm.provider_deleted",
  "llm.settings_updated",
  "budget.set",
  "budget.removed",
  "webhook.created",
  "webhook.updated",
  "webhook.deleted",
  "deploy_target.created",
  "deploy_target.updated",
  "deploy_target.deleted",
  "git_host.connected",
  "git_host.removed",
  "agent.created",
  "agent.updated",
  "agent.archived",
  "mcp_server.created",
  "mcp_server.updated",
  "mcp_server.deleted",
  // Projects
  "project.created",
  "project.imported",
  "project.updated",
  "project.deleted",
  "project.env_set",
  "project.env_deleted",
  "deployment.published",
  "deployment.rolled_back",
  "domain.added",
  "domain.removed",
  "task.merged",
  // What agents did, on whose behalf
  "agent.tool_call",
  "agent.model_call",
  // The instance administrator's own actions (ADR 0034): recorded with no org
  "admin.user_suspended",
  "admin.user_unsuspended",
  "admin.user_password_reset",
  "admin.user_deleted",
  "admin.org_deleted",
  "admin.signup_policy_updated",
] as const;
export const AuditAction = z.enum(AUDIT_ACTIONS).describe("What was done");
export type AuditAction = z.infer<typeof AuditAction>;

/** The part of an action before the dot: filter by it to see, say, every `member.*`. */
export const AUDIT_FAMILIES = [...new Set(AUDIT_ACTIONS.map((a) => a.split(".")[0]!))] as [
  string,
  ...string[],
];
export const AuditFamily = z.enum(AUDIT_FAMILIES);

export const AUDIT_ACTOR_TYPES = ["user", "agent", "system"] as const;
export const AuditActorType = z
  .enum(AUDIT_ACTOR_TYPES)
  .describe("user: a person (session or token); agent: an agent acting for `userId`; system: Kiln itself");

export const AuditEvent = z
  .object({
    id: Id,
    /** Ascending with every record; the list's cursor. */
    seq: z.number().int(),
    at: Timestamp,
    action: AuditAction,
    actor: z.object({
      type: AuditActorType,
      userId: Id.nullable().describe("The person, or the person an agent acted for"),
      email: z.string().nullable().describe("Their email when it was recorded"),
    }),
    projectId: Id.nullable(),
    target: z
      .object({ type: z.string(), id: z.string(), label: z.string().nullable() })
      .nullable()
      .describe("What it was done to"),
    data: z.record(z.string(), z.unknown()).describe("Details: names, ids, digests; never a secret's value"),
    ip: z.string().nullable(),
  })
  .meta({ id: "AuditEvent" });
export type AuditEvent = z.infer<typeof AuditEvent>;

export const AUDIT_PAGE_MAX = 200;

/** Filters shared by the list and the exports. */
export const AuditFilterQuery = z.strictObject({
  action: z
    .union([AuditAction, AuditFamily])
    .optional()
    .describe("One action (member.role_changed) or a family (member)"),
  actor: Id.optional().describe("Only what this person did, or an agent did for them"),
  project: Id.optional().describe("Only what concerns this project"),
  since: Timestamp.optional(),
  until: Timestamp.optional(),
});
export type AuditFilterQuery = z.infer<typeof AuditFilterQuery>;

export const AuditListQuery = AuditFilterQuery.extend({
  before: z.coerce.number().int().positive().optional().describe("The `nextBefore` of the previous page"),
  limit: z.coerce.number().int().min(1).max(AUDIT_PAGE_MAX).optional(),
});
export type AuditListQuery = z.infer<typeof AuditListQuery>;

export const AuditList = z.object({
  events: z.array(AuditEvent).describe("Newest first"),
  nextBefore: z.number().int().nullable().describe("Pass as `before` for older events; null at the end"),
});
export type AuditList = z.infer<typeof AuditList>;

export const AUDIT_JSONL_TYPE = "application/x-ndjson";
export const AUDIT_CSV_TYPE = "text/csv";
export const AuditJsonLines = z
  .string()
  .meta({ description: "One AuditEvent as JSON per line, oldest first" });
export const AuditCsv = z.string().meta({
  description: "A header line, then one event per line, oldest first (data as JSON in its column)",
});
