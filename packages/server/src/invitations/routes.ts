import {
  CreatedInvitation,
  CreateInvitationBody,
  ErrorEnvelope,
  Id,
  IdOrSlug,
  Invitation,
  InvitationPreview,
  Ok,
  Role,
} from "@kiln/protocol";
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { principalOf } from "../http/principal.ts";
import { OrgParams } from "../orgs/routes.ts";
import type { OrgService } from "../orgs/service.ts";
import type { InvitationService } from "./service.ts";

const errors = { "4xx": ErrorEnvelope };
const tags = ["invitations"];
const TokenParams = z.strictObject({ token: z.string().min(10).max(100) });

export function invitationRoutes(
  app: FastifyInstance,
  deps: { orgs: OrgService; invitations: InvitationService },
): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { orgs, invitations } = deps;

  r.get(
    "/api/orgs/:org/invitations",
    {
      schema: {
        tags,
        summary: "Pending invitations",
        params: OrgParams,
        response: { 200: z.array(Invitation), ...errors },
      },
    },
    async (request) => invitations.list(await orgs.access(principalOf(request).userId, request.params.org)),
  );

  r.post(
    "/api/orgs/:org/invitations",
    {
      schema: {
        tags,
        summary: "Invite someone by email (the link is logged when no SMTP is configured)",
        params: OrgParams,
        body: CreateInvitationBody,
        response: { 201: CreatedInvitation, ...errors },
      },
    },
    async (request, reply) => {
      const access = await orgs.access(principalOf(request).userId, request.params.org);
      return reply.code(201).send(await invitations.create(access, request.body));
    },
  );

  r.delete(
    "/api/orgs/:org/invitations/:invitationId",
    {
      schema: {
        tags,
        summary: "Revoke an invitation",
        params: z.strictObject({ org: IdOrSlug, invitationId: Id }),
        response: { 200: Ok, ...errors },
      },
    },
    async (request) => {
      const access = await orgs.access(principalOf(request).userId, request.params.org);
      await invitations.revoke(access, request.params.invitationId);
      return { ok: true as const };
    },
  );

  r.get(
    "/api/invitations/:token",
    {
      config: { auth: "none" },
      schema: {
        tags,
        summary: "What an invitation link offers",
        params: TokenParams,
        response: { 200: InvitationPreview, ...errors },
      },
    },
    async (request) => invitations.preview(request.params.token),
  );

  r.post(
    "/api/invitations/:token/accept",
    {
      schema: {
        tags,
        summary: "Accept an invitation as the signed-in user",
        params: TokenParams,
        response: { 200: z.object({ orgId: Id, role: Role }), ...errors },
      },
    },
    async (request) => invitations.accept(request.params.token, principalOf(request)),
  );
}
