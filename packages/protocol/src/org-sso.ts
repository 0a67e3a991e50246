import { z } from "zod";
import { SignInProviderId } from "./auth.ts";
import { Timestamp } from "./common.ts";
import { Role } from "./orgs.ts";

/** Roles single sign-on may give: never `owner` (owners are made by owners). */
export const SsoRole = Role.exclude(["owner"]);

export const OrgSsoDomain = z.object({
  domain: z.string(),
  verified: z.boolean(),
  /** The TXT record that proves it: `_kiln-challenge.<domain>` holding this value. */
  token: z.string(),
  lastError: z.string().nullable(),
});

/**
 * An org bound to a single sign-on provider for some email domains (ADR 0031): people of a verified domain
 * who sign in through that provider join the org (just in time) with the role their groups map to, or the
 * default; when the provider stops vouching for them, their sessions end at the next refresh.
 */
export const OrgSso = z
  .object({
    provider: z.string(),
    domains: z.array(OrgSsoDomain),
    defaultRole: SsoRole,
    groupRoles: z.record(z.string(), SsoRole).describe("Group claim value → role; the highest matching wins"),
    updatedAt: Timestamp,
  })
  .meta({ id: "OrgSso" });
export type OrgSso = z.infer<typeof OrgSso>;

export const PutOrgSsoBody = z
  .strictObject({
    provider: SignInProviderId,
    domains: z.array(z.string().trim().min(3).max(253)).min(1).max(10),
    defaultRole: SsoRole.default("developer"),
    groupRoles: z
      .record(z.string().min(1).max(200), SsoRole)
      .refine((r) => Object.keys(r).length <= 50, "at most 50 groups")
      .default({}),
  })
  .meta({ id: "PutOrgSsoBody" });
export type PutOrgSsoBody = z.infer<typeof PutOrgSsoBody>;
