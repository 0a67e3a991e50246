import { routes } from "@kiln/protocol";
import type { OrgRouter } from "../orgs/router.ts";
import type { AgentService } from "./service.ts";

export function agentRoutes(router: OrgRouter, agents: AgentService): void {
  const c = routes.agents;
  router.handle(c.list, async (request) => agents.list(request.scope));
  router.handle(c.get, async (request) => agents.get(request.scope, request.params.agentId));
  router.handle(c.create, async (request) => agents.create(request.scope, request.body));
  router.handle(c.update, async (request) =>
    agents.update(request.scope, request.params.agentId, request.body),
  );
  router.handle(c.archive, async (request) => {
    await agents.archive(request.scope, request.params.agentId);
    return undefined;
  });
}
