import { z } from "zod";
import { Id, Name, Slug, Timestamp } from "./common.ts";

/** Ordered from most to least powerful. */
export const ROLES = ["owner", "admin", "developer", "reviewer", "viewer"] as const;
export const Role = z.enum(ROLES);
export type Role = z.infer<typeof Role>;

export const CreateOrgBody = z.strictObject({ name: Name, slug: Slug });
export const UpdateOrgBody = z
  .strictObject({ name: Name.optional(), slug: Slug.optional() })
  .refine((b) => b.name !== undefined || b.slug !== undefined, "nothing to update");

export const Org = z
  .object({
    id: Id,
    slug: z.string(),
    name: z.string(),
    personal: z.boolean(),
    role: Role.describe("The caller's role in this org"),
    createdAt: Timestamp,
  })
  .meta({ id: "Org" });
export type Org = z.infer<typeof Org>;

export const Member = z
  .object({
    userId: Id,
    email: z.string(),
    name: z.string(),
    role: Role,
    joinedAt: Timestamp,
  })
  .meta({ id: "Member" });
export type Member = z.infer<typeof Member>;

export const UpdateMemberBody = z.strictObject({ role: Role });

export const CreateInvitationBody = z.strictObject({
  email: z
    .email()
    .max(254)
    .transform((e) => e.trim().toLowerCase()),
  role: Role.default("developer"),
});

export const Invitation = z
  .object({
    id: Id,
    orgId: Id,
    email: z.string(),
    role: Role,
    invitedBy: Id,
    createdAt: Timestamp,
    expiresAt: Timestamp,
    acceptedAt: Timestamp.nullable(),
  })
  .meta({ id: "Invitation" });
export type Invitation = z.infer<typeof Invitation>;

export const CreatedInvitation = Invitation.extend({
  url: z.string().describe("The link to send; the token in it is shown only here and in the email"),
  emailSent: z.boolean().describe("false when the mail could not be sent; share the url another way"),
});

export const InvitationPreview = z.object({
  orgName: z.string(),
  orgSlug: z.string(),
  email: z.string(),
  role: Role,
  expiresAt: Timestamp,
});

/** What accepting an invitation made of the caller. */
export const AcceptedInvitation = z.object({ orgId: Id, role: Role });
