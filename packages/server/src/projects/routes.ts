import { routes } from "@kiln/protocol";
import type { OrgRouter } from "../orgs/router.ts";
import type { ProjectEnvService } from "./env.ts";
import type { ProjectService } from "./service.ts";

export function projectRoutes(
  router: OrgRouter,
  deps: { projects: ProjectService; env: ProjectEnvService },
): void {
  const { projects, env } = deps;
  const c = routes.projects;

  router.handle(c.list, async (request) => projects.list(request.scope));
  router.handle(c.create, async (request) => projects.create(request.scope, request.body));
  router.handle(c.get, async (request) => projects.get(request.scope, request.params.project));
  router.handle(c.update, async (request) =>
    projects.update(request.scope, request.params.project, request.body),
  );
  router.handle(c.remove, async (request) => {
    await projects.delete(request.scope, request.params.project);
    return { ok: true as const };
  });

  const e = routes.projectEnv;
  router.handle(e.list, async (request) => env.list(request.scope, request.params.project));
  router.handle(e.set, async (request) => env.set(request.scope, request.params.project, request.body));
  router.handle(e.remove, async (request) =>
    env.remove(request.scope, request.params.project, request.params.variable),
  );
}
