import { routes } from "@kiln/protocol";
import type { OrgRouter } from "../../orgs/router.ts";
import type { WorkflowService } from "./service.ts";

export function workflowRoutes(router: OrgRouter, deps: { workflows: WorkflowService }): void {
  const { workflows } = deps;
  const c = routes.workflows;

  router.handle(c.get, async (request) => workflows.get(request.scope, request.params.project));
  router.handle(c.applyTemplate, async (request) =>
    workflows.applyTemplate(request.scope, request.params.project, request.body),
  );
  router.handle(c.addStatus, async (request) =>
    workflows.addStatus(request.scope, request.params.project, request.body),
  );
  router.handle(c.updateStatus, async (request) =>
    workflows.updateStatus(request.scope, request.params.project, request.params.statusId, request.body),
  );
  router.handle(c.removeStatus, async (request) =>
    workflows.deleteStatus(request.scope, request.params.project, request.params.statusId),
  );
  router.handle(c.reorder, async (request) =>
    workflows.reorder(request.scope, request.params.project, request.body),
  );
}
