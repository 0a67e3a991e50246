import { CreateOrgBody, ErrorEnvelope, IdOrSlug, Ok, Org, UpdateOrgBody } from "@kiln/protocol";
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { principalOf } from "../http/principal.ts";
import { requirePermission } from "./roles.ts";
import { type OrgService, toOrg } from "./service.ts";

const errors = { "4xx": ErrorEnvelope };
const tags = ["orgs"];
export const OrgParams = z.strictObject({ org: IdOrSlug });

export function orgRoutes(app: FastifyInstance, deps: { orgs: OrgService }): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { orgs } = deps;

  r.get(
    "/api/orgs",
    { schema: { tags, summary: "Orgs I belong to", response: { 200: z.array(Org), ...errors } } },
    async (request) => orgs.listForUser(principalOf(request).userId),
  );

  r.post(
    "/api/orgs",
    { schema: { tags, summary: "Create an org", body: CreateOrgBody, response: { 201: Org, ...errors } } },
    async (request, reply) =>
      reply.code(201).send(await orgs.create(principalOf(request).userId, request.body)),
  );

  r.get(
    "/api/orgs/:org",
    { schema: { tags, summary: "One org", params: OrgParams, response: { 200: Org, ...errors } } },
    async (request) => {
      const access = await orgs.access(principalOf(request).userId, request.params.org);
      requirePermission(access.role, "org.read");
      return toOrg(access.org, access.role);
    },
  );

  r.patch(
    "/api/orgs/:org",
    {
      schema: {
        tags,
        summary: "Rename an org or change its slug",
        params: OrgParams,
        body: UpdateOrgBody,
        response: { 200: Org, ...errors },
      },
    },
    async (request) => {
      const access = await orgs.access(principalOf(request).userId, request.params.org);
      return orgs.update(access, request.body);
    },
  );

  r.delete(
    "/api/orgs/:org",
    {
      schema: {
        tags,
        summary: "Delete an org and everything in it",
        params: OrgParams,
        response: { 200: Ok, ...errors },
      },
    },
    async (request) => {
      const access = await orgs.access(principalOf(request).userId, request.params.org);
      await orgs.delete(access);
      return { ok: true as const };
    },
  );
}
