import { routes } from "@kiln/protocol";
import type { OrgRouter } from "../orgs/router.ts";
import type { OrgAccess } from "../orgs/service.ts";
import type { ProjectService } from "../projects/service.ts";
import type { HistoryTarget, ProjectHistory } from "./service.ts";

export function historyRoutes(
  router: OrgRouter,
  deps: { projects: ProjectService; history: ProjectHistory },
): void {
  const { projects, history } = deps;
  const c = routes.history;
  /** The caller's project (the contract checked their role: viewers read, developers restore). */
  const target = async (access: OrgAccess, ref: string): Promise<HistoryTarget> => {
    const project = await projects.get(access, ref);
    return { orgId: access.org.id, projectId: project.id };
  };

  router.handle(c.list, async (request) =>
    history.list(await target(request.scope, request.params.project), request.query),
  );
  router.handle(c.diff, async (request) =>
    history.diff(await target(request.scope, request.params.project), request.params.sha),
  );
  router.handle(c.restore, async (request) =>
    history.restore(await target(request.scope, request.params.project), request.params.sha, request.body),
  );
  router.handle(c.undo, async (request) =>
    history.undo(await target(request.scope, request.params.project), request.body.messageId, request.body),
  );
}
