import { ErrorEnvelope, Id, IdOrSlug, Member, Ok, UpdateMemberBody } from "@kiln/protocol";
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { principalOf } from "../http/principal.ts";
import { OrgParams } from "../orgs/routes.ts";
import type { OrgService } from "../orgs/service.ts";
import type { MemberService } from "./service.ts";

const errors = { "4xx": ErrorEnvelope };
const tags = ["members"];
const MemberParams = z.strictObject({ org: IdOrSlug, userId: Id });

export function memberRoutes(app: FastifyInstance, deps: { orgs: OrgService; members: MemberService }): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { orgs, members } = deps;

  r.get(
    "/api/orgs/:org/members",
    {
      schema: {
        tags,
        summary: "Members of an org",
        params: OrgParams,
        response: { 200: z.array(Member), ...errors },
      },
    },
    async (request) => members.list(await orgs.access(principalOf(request).userId, request.params.org)),
  );

  r.patch(
    "/api/orgs/:org/members/:userId",
    {
      schema: {
        tags,
        summary: "Change a member's role",
        params: MemberParams,
        body: UpdateMemberBody,
        response: { 200: Member, ...errors },
      },
    },
    async (request) => {
      const access = await orgs.access(principalOf(request).userId, request.params.org);
      return members.updateRole(access, request.params.userId, request.body.role);
    },
  );

  r.delete(
    "/api/orgs/:org/members/:userId",
    {
      schema: {
        tags,
        summary: "Remove a member (or leave)",
        params: MemberParams,
        response: { 200: Ok, ...errors },
      },
    },
    async (request) => {
      const access = await orgs.access(principalOf(request).userId, request.params.org);
      await members.remove(access, request.params.userId);
      return { ok: true as const };
    },
  );
}
