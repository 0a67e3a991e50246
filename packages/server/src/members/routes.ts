import { routes } from "@kiln/protocol";
import type { OrgRouter } from "../orgs/router.ts";
import type { MemberService } from "./service.ts";

export function memberRoutes(router: OrgRouter, deps: { members: MemberService }): void {
  const { members } = deps;
  const c = routes.members;

  router.handle(c.list, async (request) => members.list(request.scope));
  router.handle(c.setRole, async (request) =>
    members.updateRole(request.scope, request.params.userId, request.body.role),
  );
  router.handle(c.remove, async (request) => {
    await members.remove(request.scope, request.params.userId);
    return { ok: true as const };
  });
}
