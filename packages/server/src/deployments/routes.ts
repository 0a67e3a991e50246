import { routes } from "@kiln/protocol";
import type { OrgRouter } from "../orgs/router.ts";
import type { DeploymentService } from "./service.ts";

export function deploymentRoutes(router: OrgRouter, deployments: DeploymentService): void {
  const c = routes.deployments;
  router.handle(c.list, async (request) => deployments.list(request.scope, request.params.project));
  router.handle(c.create, async (request) => deployments.create(request.scope, request.params.project));
  router.handle(c.get, async (request) =>
    deployments.get(request.scope, request.params.project, request.params.deployment),
  );
  router.handle(c.log, async (request) =>
    deployments.log(request.scope, request.params.project, request.params.deployment),
  );
  router.handle(c.promote, async (request) =>
    deployments.promote(request.scope, request.params.project, request.params.deployment),
  );
}
