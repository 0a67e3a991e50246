import { routes } from "@kiln/protocol";
import { type BodyOf, call, type QueryOf } from "../call.ts";

const c = routes.llm;

export const llm = {
  models: (org: string) => call(c.models, { params: { org } }),
  providers: (org: string) => call(c.providers, { params: { org } }),
  createProvider: (org: string, body: BodyOf<typeof c.createProvider>) =>
    call(c.createProvider, { params: { org }, body }),
  updateProvider: (org: string, id: string, body: BodyOf<typeof c.updateProvider>) =>
    call(c.updateProvider, { params: { org, providerId: id }, body }),
  removeProvider: (org: string, id: string) => call(c.removeProvider, { params: { org, providerId: id } }),
  prices: (org: string) => call(c.prices, { params: { org } }),
  setPrice: (org: string, body: BodyOf<typeof c.setPrice>) => call(c.setPrice, { params: { org }, body }),
  removePrice: (org: string, id: string) => call(c.removePrice, { params: { org, priceId: id } }),
  settings: (org: string) => call(c.settings, { params: { org } }),
  updateSettings: (org: string, body: BodyOf<typeof c.updateSettings>) =>
    call(c.updateSettings, { params: { org }, body }),
  calls: (org: string, query: QueryOf<typeof c.calls>) => call(c.calls, { params: { org }, query }),
  usage: (org: string, query: QueryOf<typeof c.usage>) => call(c.usage, { params: { org }, query }),
};
