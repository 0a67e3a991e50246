import { routes } from "@kiln/protocol";
import type { OrgRouter } from "../orgs/router.ts";
import type { ShareLinkService } from "./share-links.ts";

export function shareLinkRoutes(router: OrgRouter, shares: ShareLinkService): void {
  const c = routes.shareLinks;
  router.handle(c.list, async (request) => shares.list(request.scope, request.params.project));
  router.handle(c.create, async (request) =>
    shares.create(request.scope, request.params.project, request.body),
  );
  router.handle(c.revoke, async (request) =>
    shares.revoke(request.scope, request.params.project, request.params.shareLink),
  );
}
