import { routes } from "@kiln/protocol";
import type { OrgRouter } from "../orgs/router.ts";
import type { BudgetService } from "./service.ts";

export function budgetRoutes(router: OrgRouter, budgets: BudgetService): void {
  const c = routes.budgets;
  router.handle(c.list, async (request) => budgets.list(request.scope));
  router.handle(c.create, async (request) => budgets.create(request.scope, request.body));
  router.handle(c.update, async (request) =>
    budgets.update(request.scope, request.params.budget, request.body),
  );
  router.handle(c.remove, async (request) => budgets.remove(request.scope, request.params.budget));
}
