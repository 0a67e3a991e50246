import { z } from "zod";
import { Id, Ok } from "../common.ts";
import {
  AcceptedInvitation,
  CreatedInvitation,
  CreateInvitationBody,
  Invitation,
  InvitationPreview,
} from "../orgs.ts";
import { defineRoute } from "./define.ts";
import { OrgParams } from "./params.ts";

const tags = ["invitations"];
const TokenParams = z.strictObject({ token: z.string().min(10).max(100) });
const TOKEN_ERRORS = ["invitation_not_found", "invitation_expired"] as const;

export const invitations = {
  list: defineRoute({
    method: "GET",
    path: "/api/orgs/:org/invitations",
    summary: "Pending invitations",
    tags,
    // They carry invitees' email addresses.
    permission: "invitations.manage",
    params: OrgParams,
    response: z.array(Invitation),
  }),
  create: defineRoute({
    method: "POST",
    path: "/api/orgs/:org/invitations",
    summary: "Invite someone by email (the link is logged when no SMTP is configured)",
    tags,
    permission: "invitations.manage",
    params: OrgParams,
    body: CreateInvitationBody,
    status: 201,
    response: CreatedInvitation,
  }),
  revoke: defineRoute({
    method: "DELETE",
    path: "/api/orgs/:org/invitations/:invitationId",
    summary: "Revoke an invitation",
    tags,
    permission: "invitations.manage",
    params: OrgParams.extend({ invitationId: Id }),
    response: Ok,
    errors: ["invitation_not_found"],
  }),
  preview: defineRoute({
    method: "GET",
    path: "/api/invitations/:token",
    summary: "What an invitation link offers",
    tags,
    auth: "none",
    params: TokenParams,
    response: InvitationPreview,
    errors: TOKEN_ERRORS,
  }),
  accept: defineRoute({
    method: "POST",
    path: "/api/invitations/:token/accept",
    summary: "Accept an invitation as the signed-in user",
    tags,
    params: TokenParams,
    response: AcceptedInvitation,
    errors: [
      ...TOKEN_ERRORS,
      "already_member",
      "invitation_email_mismatch",
      "email_not_verified",
      "limit_exceeded",
    ],
  }),
};
