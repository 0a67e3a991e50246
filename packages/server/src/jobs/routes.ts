import {
  CreatedWorkerToken,
  CreateWorkerTokenBody,
  ErrorEnvelope,
  Id,
  IdOrSlug,
  Job,
  JobEvent,
  JobEventsQuery,
  JobListQuery,
  Ok,
  StartJobBody,
  Worker,
  WorkerToken,
} from "@kiln/protocol";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { type EventStreams, lastEventId, wantsStream } from "../http/event-stream.ts";
import { principalOf } from "../http/principal.ts";
import { requirePermission } from "../orgs/roles.ts";
import type { OrgService } from "../orgs/service.ts";
import type { ProjectService } from "../projects/service.ts";
import type { JobService } from "./service.ts";

const errors = { "4xx": ErrorEnvelope };
const tags = ["jobs"];
const OrgParams = z.strictObject({ org: IdOrSlug });
const JobParams = OrgParams.extend({ jobId: Id });
const ProjectParams = OrgParams.extend({ project: IdOrSlug });
const TokenParams = OrgParams.extend({ workerTokenId: Id });

export function jobRoutes(
  app: FastifyInstance,
  deps: { orgs: OrgService; projects: ProjectService; jobs: JobService; streams: EventStreams },
): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { orgs, projects, jobs, streams } = deps;
  const base = "/api/orgs/:org/jobs";
  const access = (request: FastifyRequest<{ Params: { org: string } }>) =>
    orgs.access(principalOf(request).userId, request.params.org);

  r.get(
    base,
    {
      schema: {
        tags,
        summary: "The org's jobs, newest first (filter by project, task or state)",
        params: OrgParams,
        querystring: JobListQuery,
        response: { 200: z.array(Job), ...errors },
      },
    },
    async (request) => {
      const who = await access(request);
      requirePermission(who.role, "jobs.read");
      return jobs.list(who.org, request.query);
    },
  );

  r.get(
    `${base}/:jobId`,
    {
      schema: { tags, summary: "A job", params: JobParams, response: { 200: Job, ...errors } },
    },
    async (request) => {
      const who = await access(request);
      requirePermission(who.role, "jobs.read");
      return jobs.get(who.org, request.params.jobId);
    },
  );

  r.get(
    `${base}/:jobId/events`,
    {
      schema: {
        tags,
        summary: "A job's events: JSON, or a live SSE stream that replays from Last-Event-ID",
        params: JobParams,
        querystring: JobEventsQuery,
        response: { 200: z.array(JobEvent), ...errors },
      },
    },
    async (request, reply) => {
      const who = await access(request);
      requirePermission(who.role, "jobs.read");
      const after = lastEventId(request, request.query.after);
      if (!wantsStream(request)) return jobs.events(who.org, request.params.jobId, after);
      // Checked before the stream starts, so a missing job is a plain 404.
      await jobs.get(who.org, request.params.jobId);
      return streams.numbered(request, reply, (emit, signal) =>
        jobs.follow(who.org, request.params.jobId, after, emit, signal),
      );
    },
  );

  r.post(
    `${base}/:jobId/cancel`,
    {
      schema: {
        tags,
        summary: "Cancel a job (a running one stops once its worker acknowledges)",
        params: JobParams,
        response: { 200: Job, ...errors },
      },
    },
    async (request) => {
      const who = await access(request);
      requirePermission(who.role, "jobs.write");
      return jobs.cancel(who.org, request.params.jobId, who.userId);
    },
  );

  r.post(
    "/api/orgs/:org/projects/:project/jobs",
    {
      schema: {
        tags,
        summary: "Start a job on the project by hand",
        params: ProjectParams,
        body: StartJobBody,
        response: { 201: Job, ...errors },
      },
    },
    async (request, reply) => {
      const who = await access(request);
      requirePermission(who.role, "jobs.write");
      const project = await projects.get(who, request.params.project);
      const { jobId } = await jobs.startJob({
        org: who.org,
        projectId: project.id,
        taskId: null,
        kind: request.body.kind,
        instructions: request.body.instructions,
        requestedBy: who.userId,
      });
      return reply.code(201).send(await jobs.get(who.org, jobId));
    },
  );

  r.get(
    "/api/orgs/:org/workers",
    {
      schema: {
        tags,
        summary: "Workers connected now that take the org's jobs",
        params: OrgParams,
        response: { 200: z.array(Worker), ...errors },
      },
    },
    async (request) => {
      const who = await access(request);
      requirePermission(who.role, "jobs.read");
      return jobs.listWorkers(who.org);
    },
  );

  r.get(
    "/api/orgs/:org/workers/tokens",
    {
      schema: {
        tags,
        summary: "The org's worker tokens (never their secrets)",
        params: OrgParams,
        response: { 200: z.array(WorkerToken), ...errors },
      },
    },
    async (request) => {
      const who = await access(request);
      requirePermission(who.role, "workers.manage");
      return jobs.listWorkerTokens(who.org);
    },
  );

  r.post(
    "/api/orgs/:org/workers/tokens",
    {
      schema: {
        tags,
        summary: "Create a worker token (kiln_wrk_…, shown once) for `kiln worker`",
        params: OrgParams,
        body: CreateWorkerTokenBody,
        response: { 201: CreatedWorkerToken, ...errors },
      },
    },
    async (request, reply) => {
      const who = await access(request);
      requirePermission(who.role, "workers.manage");
      return reply.code(201).send(await jobs.createWorkerToken(who.org, who.userId, request.body.name));
    },
  );

  r.delete(
    "/api/orgs/:org/workers/tokens/:workerTokenId",
    {
      schema: {
        tags,
        summary: "Revoke a worker token; its workers are disconnected",
        params: TokenParams,
        response: { 200: Ok, ...errors },
      },
    },
    async (request) => {
      const who = await access(request);
      requirePermission(who.role, "workers.manage");
      await jobs.revokeWorkerToken(who.org, request.params.workerTokenId);
      return { ok: true as const };
    },
  );
}
