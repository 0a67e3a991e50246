import { routes } from "@kiln/protocol";
import { principalOf } from "../http/principal.ts";
import type { OrgRouter } from "../orgs/router.ts";
import type { MarketplaceService } from "./service.ts";

export function marketplaceRoutes(router: OrgRouter, marketplace: MarketplaceService): void {
  const c = routes.marketplace;
  router.handle(c.list, async (request) => marketplace.list(request.scope, request.query.q));
  router.handle(c.get, async (request) => marketplace.get(request.scope, request.params.listingId));
  router.handle(c.install, async (request) =>
    marketplace.install(request.scope, request.params.listingId, request.body),
  );
  router.handle(c.publish, async (request) =>
    marketplace.publish(request.scope, request.params.project, request.body),
  );
  router.handle(c.project, async (request) => marketplace.project(request.scope, request.params.project));
  router.handle(c.pending, async (request) => marketplace.pending(principalOf(request).userId));
  router.handle(c.approve, async (request) =>
    marketplace.approve(principalOf(request).userId, request.params.listingId),
  );
}
