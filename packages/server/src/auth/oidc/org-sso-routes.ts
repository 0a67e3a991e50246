import { routes } from "@kiln/protocol";
import type { OrgRouter } from "../../orgs/router.ts";
import type { OrgSsoService } from "./org-sso.ts";

export function orgSsoRoutes(router: OrgRouter, sso: OrgSsoService): void {
  const c = routes.orgSso;
  router.handle(c.get, async (request) => sso.get(request.scope));
  router.handle(c.put, async (request) => sso.put(request.scope, request.body));
  router.handle(c.remove, async (request) => {
    await sso.remove(request.scope);
  });
  router.handle(c.verify, async (request) => sso.verify(request.scope));
}
