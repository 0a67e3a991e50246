import { routes } from "@kiln/protocol";
import type { OrgRouter } from "../orgs/router.ts";
import type { WebhookService } from "./service.ts";

export function webhookRoutes(router: OrgRouter, hooks: WebhookService): void {
  const c = routes.webhooks;
  router.handle(c.list, async (request) => hooks.list(request.scope));
  router.handle(c.create, async (request) => hooks.create(request.scope, request.body));
  router.handle(c.update, async (request) =>
    hooks.update(request.scope, request.params.webhook, request.body),
  );
  router.handle(c.remove, async (request) => hooks.remove(request.scope, request.params.webhook));
  router.handle(c.deliveries, async (request) => hooks.deliveries(request.scope, request.params.webhook));
  router.handle(c.redeliver, async (request) =>
    hooks.redeliver(request.scope, request.params.webhook, request.params.delivery),
  );
}
