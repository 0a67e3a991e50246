import { routes } from "@kiln/protocol";
import type { OrgRouter } from "../orgs/router.ts";
import type { RuntimeLogs } from "./runtime-log.ts";
import type { VersionShareService } from "./version-shares.ts";

/** Routes of a deployment beyond its own (deployments/routes.ts): its share links and its runtime log. */
export function versionShareRoutes(
  router: OrgRouter,
  shares: VersionShareService,
  runtimeLogs: RuntimeLogs,
): void {
  router.handle(routes.deploymentRuntime.log, async (request) =>
    runtimeLogs.lines(request.scope, request.params.project, request.params.deployment, request.query.since),
  );
  const c = routes.deploymentShares;
  router.handle(c.list, async (request) =>
    shares.list(request.scope, request.params.project, request.params.deployment),
  );
  router.handle(c.create, async (request) =>
    shares.create(request.scope, request.params.project, request.params.deployment, request.body),
  );
  router.handle(c.revoke, async (request) =>
    shares.revoke(
      request.scope,
      request.params.project,
      request.params.deployment,
      request.params.versionLink,
    ),
  );
}
