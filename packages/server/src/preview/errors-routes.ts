import { ErrorEnvelope, IdOrSlug, Ok, PreviewErrorList } from "@kiln/protocol";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { principalOf } from "../http/principal.ts";
import { type Permission, requirePermission } from "../orgs/roles.ts";
import type { OrgService } from "../orgs/service.ts";
import type { ProjectService } from "../projects/service.ts";
import type { PreviewErrors } from "./errors.ts";

const errors = { "4xx": ErrorEnvelope };
const tags = ["runtime"];
const ProjectParams = z.strictObject({ org: IdOrSlug, project: IdOrSlug });
const PATH = "/api/orgs/:org/projects/:project/runtime/errors";

export function previewErrorRoutes(
  app: FastifyInstance,
  deps: { orgs: OrgService; projects: ProjectService; previewErrors: PreviewErrors },
): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { orgs, projects, previewErrors } = deps;
  const project = async (
    request: FastifyRequest<{ Params: { org: string; project: string } }>,
    permission: Permission,
  ) => {
    const access = await orgs.access(principalOf(request).userId, request.params.org);
    requirePermission(access.role, permission);
    return { orgId: access.org.id, projectId: (await projects.get(access, request.params.project)).id };
  };

  r.get(
    PATH,
    {
      schema: {
        tags,
        summary: "Recent build and runtime errors: dev server output and the preview page's browser errors",
        params: ProjectParams,
        response: { 200: PreviewErrorList, ...errors },
      },
    },
    async (request) => {
      const { orgId, projectId } = await project(request, "projects.read");
      return { errors: previewErrors.recent(orgId, projectId) };
    },
  );

  r.delete(
    PATH,
    {
      schema: {
        tags,
        summary: "Forget the errors seen so far (later ones are collected again)",
        params: ProjectParams,
        response: { 200: Ok, ...errors },
      },
    },
    async (request) => {
      const { orgId, projectId } = await project(request, "projects.write");
      previewErrors.clear(orgId, projectId);
      return { ok: true as const };
    },
  );
}
