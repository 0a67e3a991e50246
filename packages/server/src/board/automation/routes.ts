import { routes } from "@kiln/protocol";
import type { OrgRouter } from "../../orgs/router.ts";
import type { AutomationService } from "./service.ts";

export function automationRoutes(router: OrgRouter, deps: { automation: AutomationService }): void {
  const { automation } = deps;
  const c = routes.automation;

  router.handle(c.list, async (request) => automation.list(request.scope, request.params.project));
  router.handle(c.create, async (request) =>
    automation.create(request.scope, request.params.project, request.body),
  );
  router.handle(c.get, async (request) =>
    automation.get(request.scope, request.params.project, request.params.ruleId),
  );
  router.handle(c.update, async (request) =>
    automation.update(request.scope, request.params.project, request.params.ruleId, request.body),
  );
  router.handle(c.remove, async (request) => {
    await automation.delete(request.scope, request.params.project, request.params.ruleId);
  });
}
