import { routes } from "@kiln/protocol";
import type { OrgRouter } from "../orgs/router.ts";
import type { LlmService } from "./service.ts";

export function llmRoutes(router: OrgRouter, deps: { llm: LlmService }): void {
  const { llm } = deps;
  const c = routes.llm;

  router.handle(c.usage, async (request) => llm.calls.usage(request.scope, request.query));
  router.handle(c.calls, async (request) => llm.calls.list(request.scope, request.query));
  router.handle(c.models, async (request) => llm.gateway.listModels(request.scope));
  router.handle(c.providers, async (request) => llm.providers.list(request.scope));
  router.handle(c.createProvider, async (request) => llm.providers.create(request.scope, request.body));
  router.handle(c.updateProvider, async (request) =>
    llm.providers.update(request.scope, request.params.providerId, request.body),
  );
  router.handle(c.removeProvider, async (request) => {
    await llm.providers.delete(request.scope, request.params.providerId);
    return { ok: true as const };
  });
  router.handle(c.prices, async (request) => llm.prices.list(request.scope));
  router.handle(c.setPrice, async (request) => llm.prices.upsert(request.scope, request.body));
  router.handle(c.removePrice, async (request) => {
    await llm.prices.delete(request.scope, request.params.priceId);
    return { ok: true as const };
  });
  router.handle(c.settings, async (request) => llm.settings.get(request.scope));
  router.handle(c.updateSettings, async (request) => llm.settings.update(request.scope, request.body));
}
