import { routes } from "@kiln/protocol";
import type { OrgRouter } from "../../orgs/router.ts";
import type { DeploymentService } from "../service.ts";
import type { DeployTargetService } from "./service.ts";

export function deployTargetRoutes(
  router: OrgRouter,
  targets: DeployTargetService,
  deployments: DeploymentService,
): void {
  const c = routes.deployTargets;
  router.handle(c.list, async (request) => targets.list(request.scope));
  router.handle(c.create, async (request) => targets.create(request.scope, request.body));
  router.handle(c.update, async (request) =>
    targets.update(request.scope, request.params.target, request.body),
  );
  router.handle(c.remove, async (request) => {
    await targets.remove(request.scope, request.params.target);
    return { ok: true as const };
  });
  router.handle(c.ofProject, async (request) => targets.ofProject(request.scope, request.params.project));
  router.handle(c.updateOfProject, async (request) =>
    targets.setAutoDeploy(
      request.scope,
      request.params.project,
      request.params.target,
      request.body.autoDeploy,
    ),
  );
  router.handle(c.deploy, async (request) =>
    deployments.deployTo(request.scope, request.params.project, request.params.target),
  );
}
