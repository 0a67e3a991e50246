import { routes } from "@kiln/protocol";
import { type BodyOf, call } from "../call.ts";

const e = routes.budgets;

export const budgets = {
  list: (org: string) => call(e.list, { params: { org } }),
  create: (org: string, body: BodyOf<typeof e.create>) => call(e.create, { params: { org }, body }),
  update: (org: string, budget: string, body: BodyOf<typeof e.update>) =>
    call(e.update, { params: { org, budget }, body }),
  remove: (org: string, budget: string) => call(e.remove, { params: { org, budget } }),
};
