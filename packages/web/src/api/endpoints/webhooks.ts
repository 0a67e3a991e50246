import { routes } from "@kiln/protocol";
import { type BodyOf, call } from "../call.ts";

const e = routes.webhooks;

export const webhooks = {
  list: (org: string) => call(e.list, { params: { org } }),
  create: (org: string, body: BodyOf<typeof e.create>) => call(e.create, { params: { org }, body }),
  update: (org: string, webhook: string, body: BodyOf<typeof e.update>) =>
    call(e.update, { params: { org, webhook }, body }),
  remove: (org: string, webhook: string) => call(e.remove, { params: { org, webhook } }),
  deliveries: (org: string, webhook: string) => call(e.deliveries, { params: { org, webhook } }),
  redeliver: (org: string, webhook: string, delivery: string) =>
    call(e.redeliver, { params: { org, webhook, delivery } }),
};
