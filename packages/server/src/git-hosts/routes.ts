import { routes } from "@kiln/protocol";
import type { OrgRouter } from "../orgs/router.ts";
import type { GitHostActions } from "./actions.ts";
import type { GitHostService } from "./service.ts";

export function gitHostRoutes(
  router: OrgRouter,
  o: { hosts: GitHostService; actions: GitHostActions },
): void {
  const c = routes.gitHosts;
  router.handle(c.list, async (request) => o.hosts.list(request.scope));
  router.handle(c.create, async (request) => o.hosts.create(request.scope, request.body));
  router.handle(c.remove, async (request) => {
    await o.hosts.remove(request.scope, request.params.host);
    return { ok: true as const };
  });
  router.handle(c.repositories, async (request) => o.hosts.repositories(request.scope, request.params.host));
  router.handle(c.importRepository, async (request) =>
    o.actions.importRepository(request.scope, request.params.host, request.body),
  );
  router.handle(c.createRepository, async (request) =>
    o.actions.createRepository(request.scope, request.params.project, request.body),
  );
  router.handle(c.openPullRequest, async (request) =>
    o.actions.openPullRequest(request.scope, request.params.project, request.params.taskId, request.body),
  );
}
