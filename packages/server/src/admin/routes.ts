import { routes } from "@kiln/protocol";
import { principalOf } from "../http/principal.ts";
import type { OrgRouter } from "../orgs/router.ts";
import type { AdminOrgs } from "./orgs.ts";
import type { AdminService } from "./service.ts";

export function adminRoutes(router: OrgRouter, admin: AdminService, orgs: AdminOrgs): void {
  const c = routes.admin;
  const me = (request: Parameters<typeof principalOf>[0]) => principalOf(request).userId;
  const ok = { ok: true as const };
  router.handle(c.overview, async (request) => admin.overview(me(request)));
  router.handle(c.users, async (request) => admin.users(me(request), request.query));
  router.handle(c.suspend, async (request) => admin.suspend(me(request), request.params.userId));
  router.handle(c.unsuspend, async (request) => admin.unsuspend(me(request), request.params.userId));
  router.handle(c.passwordReset, async (request) => admin.resetPassword(me(request), request.params.userId));
  router.handle(c.deletionPlan, async (request) => admin.deletionPlan(me(request), request.params.userId));
  router.handle(c.deleteUser, async (request) => {
    await admin.deleteUser(me(request), request.params.userId);
    return ok;
  });
  router.handle(c.orgs, async (request) => orgs.list(me(request), request.query));
  router.handle(c.org, async (request) => orgs.detail(me(request), request.params.orgId));
  router.handle(c.deleteOrg, async (request) => {
    await orgs.delete(me(request), request.params.orgId);
    return ok;
  });
  router.handle(c.usage, async (request) => orgs.usage(me(request), request.query));
  router.handle(c.audit, async (request) => admin.audit(me(request), request.query));
  router.handle(c.signupPolicy, async (request) => admin.signupPolicy(me(request)));
  router.handle(c.updateSignupPolicy, async (request) => admin.updateSignupPolicy(me(request), request.body));
}
