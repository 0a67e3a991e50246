import { routes } from "@kiln/protocol";
import { principalOf } from "../http/principal.ts";
import type { OrgRouter } from "../orgs/router.ts";
import type { InvitationService } from "./service.ts";

export function invitationRoutes(router: OrgRouter, deps: { invitations: InvitationService }): void {
  const { invitations } = deps;
  const c = routes.invitations;

  router.handle(c.list, async (request) => invitations.list(request.scope));
  router.handle(c.create, async (request) => invitations.create(request.scope, request.body));
  router.handle(c.revoke, async (request) => {
    await invitations.revoke(request.scope, request.params.invitationId);
    return { ok: true as const };
  });
  router.handle(c.preview, async (request) => invitations.preview(request.params.token));
  router.handle(c.accept, async (request) => invitations.accept(request.params.token, principalOf(request)));
}
