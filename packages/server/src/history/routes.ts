import {
  CheckpointDiff,
  CheckpointPage,
  CommitSha,
  ErrorEnvelope,
  HistoryQuery,
  IdOrSlug,
  RestoreBody,
  RestoreResult,
  UndoBody,
} from "@kiln/protocol";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { principalOf } from "../http/principal.ts";
import { type Permission, requirePermission } from "../orgs/roles.ts";
import type { OrgService } from "../orgs/service.ts";
import type { ProjectService } from "../projects/service.ts";
import type { HistoryTarget, ProjectHistory } from "./service.ts";

const errors = { "4xx": ErrorEnvelope };
const tags = ["history"];
const ProjectParams = z.strictObject({ org: IdOrSlug, project: IdOrSlug });
const CommitParams = ProjectParams.extend({ sha: CommitSha });
const BASE = "/api/orgs/:org/projects/:project/history";

export function historyRoutes(
  app: FastifyInstance,
  deps: { orgs: OrgService; projects: ProjectService; history: ProjectHistory },
): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { orgs, projects, history } = deps;
  /** The caller's project, once their role allows `permission` (viewers read, developers restore). */
  const target = async (
    request: FastifyRequest<{ Params: { org: string; project: string } }>,
    permission: Permission,
  ): Promise<HistoryTarget> => {
    const access = await orgs.access(principalOf(request).userId, request.params.org);
    requirePermission(access.role, permission);
    const project = await projects.get(access, request.params.project);
    return { orgId: access.org.id, projectId: project.id };
  };

  r.get(
    BASE,
    {
      schema: {
        tags,
        summary: "The project's checkpoints, newest first",
        params: ProjectParams,
        querystring: HistoryQuery,
        response: { 200: CheckpointPage, ...errors },
      },
    },
    async (request) => history.list(await target(request, "projects.read"), request.query),
  );

  r.get(
    `${BASE}/:sha`,
    {
      schema: {
        tags,
        summary: "What one checkpoint changed (unified diff hunks per file, size-limited)",
        params: CommitParams,
        response: { 200: CheckpointDiff, ...errors },
      },
    },
    async (request) => history.diff(await target(request, "projects.read"), request.params.sha),
  );

  r.post(
    `${BASE}/:sha/restore`,
    {
      schema: {
        tags,
        summary: "Bring the project's files back to a checkpoint, recorded as a new commit",
        params: CommitParams,
        body: RestoreBody,
        response: { 200: RestoreResult, ...errors },
      },
    },
    async (request) =>
      history.restore(await target(request, "projects.write"), request.params.sha, request.body),
  );

  // Not under /history: a static segment there would shadow GET /history/:sha (GET /history/undo → 400).
  r.post(
    "/api/orgs/:org/projects/:project/undo",
    {
      schema: {
        tags,
        summary: "Undo an agent turn: restore the files to just before its checkpoint",
        params: ProjectParams,
        body: UndoBody,
        response: { 200: RestoreResult, ...errors },
      },
    },
    async (request) =>
      history.undo(await target(request, "projects.write"), request.body.messageId, request.body),
  );
}
