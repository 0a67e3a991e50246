/**
 * Spend budgets (ADR 0029): the org's caps on model spend, the ledger the gateway's middleware reserves
 * and settles against, and where soft-cap notices go.
 */
import type { FastifyBaseLogger } from "fastify";
import type { Database } from "../db/client.ts";
import { PriceService } from "../llm/index.ts";
import type { Mailer } from "../mail/mailer.ts";
import { BudgetLedger } from "./ledger.ts";
import { BudgetNotifications, EmailBudgetNotifier } from "./notify.ts";
import { BudgetService } from "./service.ts";

export { BudgetExceededError } from "./errors.ts";
export type { BudgetLedger } from "./ledger.ts";
export type { BudgetNotifier, SoftCapNotice } from "./notify.ts";
export { budgetRoutes } from "./routes.ts";
export type { BudgetService } from "./service.ts";

export function createBudgets(deps: {
  database: Database;
  mailer: Mailer;
  publicUrl: string;
  log: FastifyBaseLogger;
  now?: () => Date;
}): { service: BudgetService; ledger: BudgetLedger } {
  const notifier = new BudgetNotifications(
    [new EmailBudgetNotifier(deps.database, deps.mailer, deps.publicUrl)],
    deps.log,
  );
  const ledger = new BudgetLedger({
    database: deps.database,
    prices: new PriceService(deps.database),
    notifier,
    log: deps.log,
    ...(deps.now ? { now: deps.now } : {}),
  });
  return { service: new BudgetService(deps.database, deps.now), ledger };
}
