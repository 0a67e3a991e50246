import { routes } from "@kiln/protocol";
import { principalOf } from "../http/principal.ts";
import type { OrgRouter } from "./router.ts";
import { type OrgService, toOrg } from "./service.ts";

export function orgRoutes(router: OrgRouter, deps: { orgs: OrgService }): void {
  const { orgs } = deps;
  const c = routes.orgs;

  router.handle(c.list, async (request) => orgs.listForUser(principalOf(request).userId));
  router.handle(c.create, async (request) => orgs.create(principalOf(request).userId, request.body));
  router.handle(c.get, async (request) => toOrg(request.scope.org, request.scope.role));
  router.handle(c.update, async (request) => orgs.update(request.scope, request.body));
  router.handle(c.remove, async (request) => {
    await orgs.delete(request.scope);
    return { ok: true as const };
  });
}
