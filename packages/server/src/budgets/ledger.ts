import type { BudgetPeriod, BudgetScope, BudgetUnit } from "@kiln/protocol";
import { and, eq, isNull, or, type SQL, sql } from "drizzle-orm";
import type { FastifyBaseLogger } from "fastify";
import type { Database, Executor } from "../db/client.ts";
import { budgetSpend, budgets } from "../db/schema-tenant.ts";
import { isDatabaseUnavailable } from "../db/unavailable.ts";
import type {
  BudgetGuard,
  BudgetHold,
  CallEstimate,
  LlmCallContext,
  Price,
  TokenCounts,
} from "../llm/index.ts";
import { costOf, type PriceService } from "../llm/index.ts";
import type { OrgRow } from "../orgs/service.ts";
import { BudgetExceededError } from "./errors.ts";
import type { BudgetNotifier } from "./notify.ts";
import { periodKey, runIdOf } from "./period.ts";

type BudgetRow = typeof budgets.$inferSelect;

const SETTLE_WAITS_MS = [250, 1000, 2000, 4000, 8000];

/** One budget's share of a call's reservation. */
interface Held {
  budget: BudgetRow;
  periodKey: string;
  estimate: number;
}

/** A call's tokens in a budget's unit: USD at the model's price (0 when unpriced), or input + output. */
function amountIn(unit: string, price: Price | undefined, tokens: TokenCounts): number {
  if (unit === "tokens") return tokens.inputTokens + tokens.outputTokens;
  return price ? costOf(price, tokens) : 0;
}

/**
 * Reserves and settles model spend (ADR 0029). Before a call, one transaction takes every budget that
 * applies (the org's, the project's, the user's, the task's; per month, and per run when the call belongs
 * to one) and, per budget, raises `reserved` by the call's estimate in a single UPDATE guarded by
 * `spent + reserved + estimate <= limit` — the row lock makes concurrent calls queue on it, so together
 * they never hold more than the cap. A refusal rolls the whole reservation back. After the call (ok,
 * failed or cancelled) `settle` gives the estimate back and books the actual amount; the first settle to
 * cross the soft mark in a period tells the notifier, once.
 */
export class BudgetLedger implements BudgetGuard {
  readonly #database: Database;
  readonly #prices: PriceService;
  readonly #notifier: BudgetNotifier;
  readonly #log: FastifyBaseLogger;
  readonly #now: () => Date;
  readonly #pending = new Set<Promise<void>>();

  constructor(deps: {
    database: Database;
    prices: PriceService;
    notifier: BudgetNotifier;
    log: FastifyBaseLogger;
    /** The clock that picks the month (tests turn it). */
    now?: () => Date;
  }) {
    this.#database = deps.database;
    this.#prices = deps.prices;
    this.#notifier = deps.notifier;
    this.#log = deps.log;
    this.#now = deps.now ?? (() => new Date());
  }

  async reserve(ctx: LlmCallContext, call: CallEstimate): Promise<BudgetHold | undefined> {
    const now = this.#now();
    const runId = runIdOf(ctx);
    const reserved = await this.#database.tenant(ctx.org.schemaName, async (tx) => {
      const applicable = await tx.select().from(budgets).where(applies(ctx));
      const held: Held[] = [];
      if (applicable.length === 0) return { held, price: undefined };
      const price = applicable.some((b) => b.unit === "usd")
        ? await this.#prices.priceFor(tx, call.provider, call.modelId)
        : undefined;
      const tokens = { inputTokens: call.inputTokens, outputTokens: call.outputTokens, cachedInputTokens: 0 };
      // Always in the same order, so two calls locking the same rows cannot deadlock.
      for (const budget of applicable.sort((a, b) => a.id.localeCompare(b.id))) {
        const key = periodKey(budget.period as BudgetPeriod, now, runId);
        if (key === undefined) continue;
        const estimate = amountIn(budget.unit, price, tokens);
        await hold(tx, budget, key, estimate);
        held.push({ budget, periodKey: key, estimate });
      }
      return { held, price };
    });
    if (reserved.held.length === 0) return undefined;
    let settled = false;
    return {
      settle: (actual) => {
        if (settled) return;
        settled = true;
        this.#track(this.#settleWaiting(ctx.org, reserved.held, reserved.price, actual));
      },
    };
  }

  /** Waits for the settlements started so far (tests; shutdown). */
  async flush(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  #track(work: Promise<void>): void {
    const p = work.catch((err) => {
      // A lost settlement leaves the estimate held until the period ends; the call log still has the call.
      this.#log.error({ err }, "settling a model call against its budgets failed");
    });
    this.#pending.add(p);
    void p.finally(() => this.#pending.delete(p));
  }

  /** Settles, waiting out a database restart (about 15 s) rather than leaving the estimate held. */
  async #settleWaiting(org: OrgRow, held: Held[], price: Price | undefined, actual: TokenCounts) {
    for (const waitMs of [...SETTLE_WAITS_MS, undefined]) {
      try {
        return await this.#settle(org, held, price, actual);
      } catch (err) {
        if (waitMs === undefined || !isDatabaseUnavailable(err)) throw err;
        await new Promise((r) => setTimeout(r, waitMs));
      }
    }
  }

  async #settle(org: OrgRow, held: Held[], price: Price | undefined, actual: TokenCounts): Promise<void> {
    const crossed = await this.#database.tenant(org.schemaName, async (tx) => {
      const out: Array<{ budget: BudgetRow; periodKey: string; spent: number }> = [];
      for (const h of held) {
        const amount = amountIn(h.budget.unit, price, actual);
        const [row] = await tx
          .update(budgetSpend)
          .set({
            reserved: sql`greatest(${budgetSpend.reserved} - ${h.estimate}, 0)`,
            spent: sql`${budgetSpend.spent} + ${amount}`,
            updatedAt: new Date(),
          })
          .where(and(eq(budgetSpend.budgetId, h.budget.id), eq(budgetSpend.periodKey, h.periodKey)))
          .returning({ spent: budgetSpend.spent });
        if (!row) continue; // the budget was deleted meanwhile
        // The limit as it is now: an admin may have raised it while the call ran.
        const [marked] = await tx
          .update(budgetSpend)
          .set({ softNotifiedAt: new Date() })
          .where(
            and(
              eq(budgetSpend.budgetId, h.budget.id),
              eq(budgetSpend.periodKey, h.periodKey),
              isNull(budgetSpend.softNotifiedAt),
              sql`${budgetSpend.spent} >= (SELECT ${budgets.softFraction} * ${budgets.hardLimit} FROM ${budgets} WHERE ${budgets.id} = ${h.budget.id})`,
            ),
          )
          .returning({ spent: budgetSpend.spent });
        if (marked) {
          const [current] = await tx.select().from(budgets).where(eq(budgets.id, h.budget.id));
          out.push({ budget: current ?? h.budget, periodKey: h.periodKey, spent: marked.spent });
        }
      }
      return out;
    });
    for (const c of crossed) {
      await this.#notifier.softCapCrossed({
        org,
        budget: {
          id: c.budget.id,
          scope: c.budget.scope as BudgetScope,
          scopeId: c.budget.scopeId,
          period: c.budget.period as BudgetPeriod,
          unit: c.budget.unit as BudgetUnit,
          limit: c.budget.hardLimit,
          softFraction: c.budget.softFraction,
        },
        periodKey: c.periodKey,
        spent: c.spent,
      });
    }
  }
}

/** The org's budgets, and those of the call's project, user and task. */
function applies(ctx: LlmCallContext): SQL {
  const scoped = (scope: BudgetScope, id: string | undefined) =>
    id === undefined ? undefined : and(eq(budgets.scope, scope), eq(budgets.scopeId, id));
  return or(
    eq(budgets.scope, "org"),
    scoped("project", ctx.projectId),
    scoped("user", ctx.userId),
    scoped("task", ctx.taskId),
  )!;
}

/** Raises one budget's reservation, or throws `budget_exceeded` (rolling back the whole reservation). */
async function hold(tx: Executor, budget: BudgetRow, key: string, estimate: number): Promise<void> {
  await tx.insert(budgetSpend).values({ budgetId: budget.id, periodKey: key }).onConflictDoNothing();
  const used = sql`${budgetSpend.spent} + ${budgetSpend.reserved}`;
  const [row] = await tx
    .update(budgetSpend)
    .set({ reserved: sql`${budgetSpend.reserved} + ${estimate}`, updatedAt: new Date() })
    .where(
      and(
        eq(budgetSpend.budgetId, budget.id),
        eq(budgetSpend.periodKey, key),
        // A cap already reached refuses even a call it cannot price (estimate 0).
        sql`${used} < ${budget.hardLimit}`,
        sql`${used} + ${estimate} <= ${budget.hardLimit}`,
      ),
    )
    .returning({ spent: budgetSpend.spent });
  if (row) return;
  const [current] = await tx
    .select()
    .from(budgetSpend)
    .where(and(eq(budgetSpend.budgetId, budget.id), eq(budgetSpend.periodKey, key)));
  throw new BudgetExceededError({
    budgetId: budget.id,
    scope: budget.scope as BudgetScope,
    scopeId: budget.scopeId,
    period: budget.period as BudgetPeriod,
    unit: budget.unit as BudgetUnit,
    limit: budget.hardLimit,
    spent: current?.spent ?? 0,
    reserved: current?.reserved ?? 0,
    estimate,
  });
}
