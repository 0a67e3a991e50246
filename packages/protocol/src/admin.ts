import { z } from "zod";
import { AUDIT_PAGE_MAX } from "./audit.ts";
import { Id, Timestamp } from "./common.ts";
import { Role } from "./orgs.ts";

/**
 * The instance administrator's pages (ADR 0034): the people and orgs of the whole instance, who may sign up,
 * and the worker fleet. The admin is whoever KILN_ADMIN_EMAILS names, or else the first verified account.
 */

export const AdminUser = z
  .object({
    id: Id,
    email: z.string(),
    name: z.string(),
    emailVerified: z.boolean(),
    createdAt: Timestamp,
    suspendedAt: Timestamp.nullable(),
    instanceAdmin: z.boolean(),
    orgs: z.number().int().describe("Orgs the person is a member of"),
  })
  .meta({ id: "AdminUser" });
export type AdminUser = z.infer<typeof AdminUser>;

export const ADMIN_PAGE_MAX = 100;

const Search = z.string().trim().max(200).optional().describe("Part of an email, name or slug");

export const AdminListQuery = z.strictObject({
  q: Search,
  offset: z.coerce.number().int().min(0).max(1_000_000).optional(),
  limit: z.coerce.number().int().min(1).max(ADMIN_PAGE_MAX).optional(),
});
export type AdminListQuery = z.infer<typeof AdminListQuery>;

export const AdminUserList = z.object({
  users: z.array(AdminUser),
  total: z.number().int().describe("Matching accounts in all"),
});
export type AdminUserList = z.infer<typeof AdminUserList>;

export const AdminOrg = z
  .object({
    id: Id,
    slug: z.string(),
    name: z.string(),
    personal: z.boolean(),
    createdAt: Timestamp,
    members: z.number().int(),
    owners: z.array(z.string()).describe("Owners' emails"),
  })
  .meta({ id: "AdminOrg" });
export type AdminOrg = z.infer<typeof AdminOrg>;

export const AdminOrgList = z.object({ orgs: z.array(AdminOrg), total: z.number().int() });
export type AdminOrgList = z.infer<typeof AdminOrgList>;

export const SIGNUP_MODES = ["open", "invite_only", "domains", "closed"] as const;
export const SignupMode = z
  .enum(SIGNUP_MODES)
  .describe(
    "open: anyone; invite_only: an address with a pending invitation; domains: addresses at the listed domains (and invited ones); closed: nobody",
  );
export type SignupMode = z.infer<typeof SignupMode>;

const Domain = z
  .string()
  .trim()
  .toLowerCase()
  .max(253)
  .regex(/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, "not a domain name");

export const SignupPolicy = z
  .object({
    mode: SignupMode,
    domains: z.array(z.string()).describe("For `domains`: who may sign up"),
    updatedAt: Timestamp.nullable(),
  })
  .meta({ id: "SignupPolicy" });
export type SignupPolicy = z.infer<typeof SignupPolicy>;

export const UpdateSignupPolicyBody = z
  .strictObject({
    mode: SignupMode,
    domains: z.array(Domain).max(100).default([]),
  })
  .refine((b) => b.mode !== "domains" || b.domains.length > 0, {
    message: "name at least one domain",
    path: ["domains"],
  });
export type UpdateSignupPolicyBody = z.infer<typeof UpdateSignupPolicyBody>;

export const AdminWorker = z.object({
  id: Id,
  name: z.string(),
  orgId: Id.nullable(),
  orgSlug: z.string().nullable(),
  version: z.string(),
  concurrency: z.number().int(),
  connectedAt: Timestamp,
  lastSeenAt: Timestamp,
  online: z.boolean(),
});
export type AdminWorker = z.infer<typeof AdminWorker>;

export const AdminOverview = z
  .object({
    users: z.number().int(),
    suspendedUsers: z.number().int(),
    orgs: z.number().int(),
    workersOnline: z.number().int(),
    jobsQueued: z.number().int(),
    jobsRunning: z.number().int(),
    workers: z.array(AdminWorker).describe("Workers seen in the last day, newest first"),
  })
  .meta({ id: "AdminOverview" });
export type AdminOverview = z.infer<typeof AdminOverview>;

export const AdminUserParams = z.strictObject({ userId: Id });

export const AdminOrgParams = z.strictObject({ orgId: Id });

export const AdminPasswordReset = z
  .object({
    email: z.string().describe("Where the link was mailed"),
    expiresInMinutes: z.number().int(),
    sessionsRevoked: z.number().int().describe("Sessions ended by the reset"),
  })
  .meta({ id: "AdminPasswordReset" });
export type AdminPasswordReset = z.infer<typeof AdminPasswordReset>;

export const AdminOrgMember = z.object({
  userId: Id,
  email: z.string(),
  name: z.string(),
  role: Role,
});
export type AdminOrgMember = z.infer<typeof AdminOrgMember>;

/** Calls, tokens and cost of a span of time; cost sums priced calls only (`unpricedCalls` were not). */
export const AdminUsageTotals = z.object({
  calls: z.number().int(),
  inputTokens: z.number().int(),
  outputTokens: z.number().int(),
  costUsd: z.number(),
  unpricedCalls: z.number().int().describe("Calls with no price known: not in costUsd"),
});
export type AdminUsageTotals = z.infer<typeof AdminUsageTotals>;

export const AdminOrgDetail = z
  .object({
    org: AdminOrg,
    members: z.array(AdminOrgMember),
    projects: z.number().int(),
    usage: AdminUsageTotals.extend({ from: Timestamp, to: Timestamp }).describe("The last 30 days"),
  })
  .meta({ id: "AdminOrgDetail" });
export type AdminOrgDetail = z.infer<typeof AdminOrgDetail>;

export const AdminUsageQuery = z.strictObject({
  from: Timestamp.optional().describe("Inclusive; default 30 days before `to`"),
  to: Timestamp.optional().describe("Exclusive; default now"),
});
export type AdminUsageQuery = z.infer<typeof AdminUsageQuery>;

export const AdminOrgUsage = AdminUsageTotals.extend({ id: Id, slug: z.string(), name: z.string() });
export type AdminOrgUsage = z.infer<typeof AdminOrgUsage>;

export const AdminUsageReport = z
  .object({
    from: Timestamp,
    to: Timestamp,
    totals: AdminUsageTotals,
    orgs: z
      .array(AdminOrgUsage)
      .describe(
        "Orgs with at least one model call in the span, costliest first; orgs without any are absent",
      ),
  })
  .meta({ id: "AdminUsageReport" });
export type AdminUsageReport = z.infer<typeof AdminUsageReport>;

export const AdminAuditQuery = z.strictObject({
  before: z.coerce.number().int().positive().optional().describe("The `nextBefore` of the previous page"),
  limit: z.coerce.number().int().min(1).max(AUDIT_PAGE_MAX).optional(),
});
export type AdminAuditQuery = z.infer<typeof AdminAuditQuery>;
