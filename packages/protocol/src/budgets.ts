import { z } from "zod";
import { Id, Timestamp } from "./common.ts";

/**
 * Spend budgets (ADR 0029): a cap on model spend per org, project, user or board task, per calendar month
 * (UTC) or per run (a chat turn or a job), in US dollars or tokens. Every model call reserves an estimate
 * against each budget that applies before it starts and settles the actual afterwards.
 */

export const BUDGET_SCOPES = ["org", "project", "user", "task"] as const;
export const BudgetScope = z
  .enum(BUDGET_SCOPES)
  .describe("What the budget caps: the whole org or one of its");
export type BudgetScope = z.infer<typeof BudgetScope>;

export const BUDGET_PERIODS = ["monthly", "run"] as const;
export const BudgetPeriod = z
  .enum(BUDGET_PERIODS)
  .describe("monthly: per calendar month (UTC); run: per chat turn or job, each on its own");
export type BudgetPeriod = z.infer<typeof BudgetPeriod>;

export const BUDGET_UNITS = ["usd", "tokens"] as const;
export const BudgetUnit = z.enum(BUDGET_UNITS).describe("usd: priced cost; tokens: input + output tokens");
export type BudgetUnit = z.infer<typeof BudgetUnit>;

export const BudgetId = z.uuid().describe("Budget id");

/** Large enough for any real budget, small enough to stay exact in a double. */
export const MAX_BUDGET_LIMIT = 1e12;
const Limit = z.number().positive().max(MAX_BUDGET_LIMIT).describe("The hard cap, in the budget's unit");
const SoftFraction = z
  .number()
  .gt(0)
  .max(1)
  .describe("Share of the limit at which the org's admins are told, once per period (default 0.8)");

export const Budget = z
  .object({
    id: BudgetId,
    scope: BudgetScope,
    scopeId: Id.nullable().describe("The project, user or task; null for the org"),
    period: BudgetPeriod,
    unit: BudgetUnit,
    limit: z.number(),
    softFraction: z.number(),
    createdBy: Id.nullable(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
    /** The current month's (monthly) or the latest run's (run) spend; 0 before any call. */
    spent: z.number(),
    /** Held by calls still running. */
    reserved: z.number(),
    periodKey: z.string().nullable().describe("`YYYY-MM` or `run:<id>` of the spend shown; null if none yet"),
  })
  .meta({ id: "Budget" });
export type Budget = z.infer<typeof Budget>;

export const CreateBudgetBody = z
  .strictObject({
    scope: BudgetScope,
    scopeId: Id.optional().describe("Required unless scope is org"),
    period: BudgetPeriod,
    unit: BudgetUnit,
    limit: Limit,
    softFraction: SoftFraction.optional(),
  })
  .meta({ id: "CreateBudgetBody" });
export type CreateBudgetBody = z.infer<typeof CreateBudgetBody>;

export const UpdateBudgetBody = z
  .strictObject({ limit: Limit.optional(), softFraction: SoftFraction.optional() })
  .meta({ id: "UpdateBudgetBody" });
export type UpdateBudgetBody = z.infer<typeof UpdateBudgetBody>;

/** `details` of a `budget_exceeded` error: which budget refused the call and where it stands. */
export const BudgetExceededDetails = z.object({
  budgetId: BudgetId,
  scope: BudgetScope,
  scopeId: Id.nullable(),
  period: BudgetPeriod,
  unit: BudgetUnit,
  limit: z.number(),
  spent: z.number(),
  reserved: z.number(),
  estimate: z.number(),
});
export type BudgetExceededDetails = z.infer<typeof BudgetExceededDetails>;
