import { routes } from "@kiln/protocol";
import { principalOf } from "../http/principal.ts";
import type { OrgRouter } from "../orgs/router.ts";
import type { AdminService } from "./service.ts";

export function adminRoutes(router: OrgRouter, admin: AdminService): void {
  const c = routes.admin;
  const me = (request: Parameters<typeof principalOf>[0]) => principalOf(request).userId;
  router.handle(c.overview, async (request) => admin.overview(me(request)));
  router.handle(c.users, async (request) => admin.users(me(request), request.query));
  router.handle(c.suspend, async (request) => admin.suspend(me(request), request.params.userId));
  router.handle(c.unsuspend, async (request) => admin.unsuspend(me(request), request.params.userId));
  router.handle(c.orgs, async (request) => admin.orgs(me(request), request.query));
  router.handle(c.signupPolicy, async (request) => admin.signupPolicy(me(request)));
  router.handle(c.updateSignupPolicy, async (request) => admin.updateSignupPolicy(me(request), request.body));
}
