import type { BudgetExceededDetails, BudgetUnit } from "@kiln/protocol";
import { KilnError } from "../errors/errors.ts";

export function formatAmount(unit: BudgetUnit, n: number): string {
  // Cents, or tenths of a cent where they matter: $0.90, $12.50, $0.0123.
  if (unit === "usd") return `$${n.toFixed(4).replace(/(\.\d\d\d*?)0+$/, "$1")}`;
  return `${Math.round(n).toLocaleString("en-US")} tokens`;
}

const WHAT = { org: "the org's", project: "the project's", user: "your", task: "the task's" } as const;
const PER = { monthly: "monthly", run: "per-run" } as const;

/**
 * A call refused by a spend budget's hard cap (402, ADR 0029): which budget, where it stands, and that an
 * admin can raise it.
 */
export class BudgetExceededError extends KilnError {
  constructor(details: BudgetExceededDetails) {
    const { unit } = details;
    const used = details.spent + details.reserved;
    super(
      "budget_exceeded",
      `${WHAT[details.scope]} ${PER[details.period]} model budget is used up: ${formatAmount(unit, used)} of ` +
        `${formatAmount(unit, details.limit)} spent or held, and this call may need ` +
        `${formatAmount(unit, details.estimate)}. An org admin can raise the budget on the usage page.`,
      { details },
    );
  }

  /** How a chat turn stops on it (the agent loop reads this; see @kiln/agent's `stopOf`). */
  readonly runStopReason = "budget_exceeded";

  get budget(): BudgetExceededDetails {
    return this.details as BudgetExceededDetails;
  }
}
