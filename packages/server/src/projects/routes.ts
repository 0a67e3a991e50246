import { CreateProjectBody, ErrorEnvelope, IdOrSlug, Ok, Project, UpdateProjectBody } from "@kiln/protocol";
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { principalOf } from "../http/principal.ts";
import { OrgParams } from "../orgs/routes.ts";
import type { OrgService } from "../orgs/service.ts";
import type { ProjectService } from "./service.ts";

const errors = { "4xx": ErrorEnvelope };
const tags = ["projects"];
const ProjectParams = z.strictObject({ org: IdOrSlug, project: IdOrSlug });

export function projectRoutes(
  app: FastifyInstance,
  deps: { orgs: OrgService; projects: ProjectService },
): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { orgs, projects } = deps;

  r.get(
    "/api/orgs/:org/projects",
    {
      schema: {
        tags,
        summary: "Projects of an org",
        params: OrgParams,
        response: { 200: z.array(Project), ...errors },
      },
    },
    async (request) => projects.list(await orgs.access(principalOf(request).userId, request.params.org)),
  );

  r.post(
    "/api/orgs/:org/projects",
    {
      schema: {
        tags,
        summary: "Create a project",
        params: OrgParams,
        body: CreateProjectBody,
        response: { 201: Project, ...errors },
      },
    },
    async (request, reply) => {
      const access = await orgs.access(principalOf(request).userId, request.params.org);
      return reply.code(201).send(await projects.create(access, request.body));
    },
  );

  r.get(
    "/api/orgs/:org/projects/:project",
    {
      schema: { tags, summary: "One project", params: ProjectParams, response: { 200: Project, ...errors } },
    },
    async (request) => {
      const access = await orgs.access(principalOf(request).userId, request.params.org);
      return projects.get(access, request.params.project);
    },
  );

  r.patch(
    "/api/orgs/:org/projects/:project",
    {
      schema: {
        tags,
        summary: "Update a project",
        params: ProjectParams,
        body: UpdateProjectBody,
        response: { 200: Project, ...errors },
      },
    },
    async (request) => {
      const access = await orgs.access(principalOf(request).userId, request.params.org);
      return projects.update(access, request.params.project, request.body);
    },
  );

  r.delete(
    "/api/orgs/:org/projects/:project",
    {
      schema: {
        tags,
        summary: "Delete a project and its files",
        params: ProjectParams,
        response: { 200: Ok, ...errors },
      },
    },
    async (request) => {
      const access = await orgs.access(principalOf(request).userId, request.params.org);
      await projects.delete(access, request.params.project);
      return { ok: true as const };
    },
  );
}
