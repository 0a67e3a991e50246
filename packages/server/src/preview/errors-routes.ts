import { routes } from "@kiln/protocol";
import type { OrgRouter } from "../orgs/router.ts";
import type { OrgAccess } from "../orgs/service.ts";
import type { ProjectService } from "../projects/service.ts";
import type { PreviewErrors } from "./errors.ts";

export function previewErrorRoutes(
  router: OrgRouter,
  deps: { projects: ProjectService; previewErrors: PreviewErrors },
): void {
  const { projects, previewErrors } = deps;
  const c = routes.previewErrors;
  const project = async (access: OrgAccess, ref: string) => ({
    orgId: access.org.id,
    projectId: (await projects.get(access, ref)).id,
  });

  router.handle(c.list, async (request) => {
    const { orgId, projectId } = await project(request.scope, request.params.project);
    return { errors: previewErrors.recent(orgId, projectId) };
  });

  router.handle(c.clear, async (request) => {
    const { orgId, projectId } = await project(request.scope, request.params.project);
    previewErrors.clear(orgId, projectId);
    return { ok: true as const };
  });
}
