import { routes } from "@kiln/protocol";
import { type EventStreams, lastEventId, wantsStream } from "../http/event-stream.ts";
import type { OrgRouter } from "../orgs/router.ts";
import type { ProjectService } from "../projects/service.ts";
import type { JobService } from "./service.ts";

export function jobRoutes(
  router: OrgRouter,
  deps: { projects: ProjectService; jobs: JobService; streams: EventStreams },
): void {
  const { projects, jobs, streams } = deps;
  const c = routes.jobs;
  const w = routes.workers;

  router.handle(c.list, async (request) => jobs.list(request.scope.org, request.query));
  router.handle(c.get, async (request) => jobs.get(request.scope.org, request.params.jobId));

  router.handle(c.events, async (request, reply) => {
    const { org } = request.scope;
    const { jobId } = request.params;
    const after = lastEventId(request, request.query.after);
    if (!wantsStream(request)) return jobs.events(org, jobId, after);
    // Checked before the stream starts, so a missing job is a plain 404.
    await jobs.get(org, jobId);
    return streams.numbered(request, reply, (emit, signal) => jobs.follow(org, jobId, after, emit, signal));
  });

  router.handle(c.cancel, async (request) =>
    jobs.cancel(request.scope.org, request.params.jobId, request.scope.userId),
  );

  router.handle(c.start, async (request) => {
    const who = request.scope;
    const project = await projects.get(who, request.params.project);
    const { jobId } = await jobs.startJob({
      org: who.org,
      projectId: project.id,
      taskId: null,
      kind: request.body.kind,
      instructions: request.body.instructions,
      requestedBy: who.userId,
      agentId: request.body.agentId,
    });
    return jobs.get(who.org, jobId);
  });

  router.handle(w.list, async (request) => jobs.listWorkers(request.scope.org));
  router.handle(w.tokens, async (request) => jobs.listWorkerTokens(request.scope.org));
  router.handle(w.createToken, async (request) =>
    jobs.createWorkerToken(request.scope.org, request.scope.userId, request.body.name),
  );
  router.handle(w.revokeToken, async (request) => {
    await jobs.revokeWorkerToken(request.scope.org, request.params.workerTokenId, request.scope.userId);
    return { ok: true as const };
  });
}
