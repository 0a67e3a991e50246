import type { BudgetPeriod } from "@kiln/protocol";

/**
 * The spend row a call counts against: the calendar month (UTC) it starts in, or its run (a job, else the
 * chat turn's message). A month's row is simply never written again once the month has turned.
 */
export function periodKey(period: BudgetPeriod, now: Date, runId: string | undefined): string | undefined {
  if (period === "run") return runId === undefined ? undefined : `run:${runId}`;
  return monthKey(now);
}

export function monthKey(now: Date): string {
  return `${now.getUTCFullYear()}-${String(now.getUTCMonth() + 1).padStart(2, "0")}`;
}

/** How a chat turn or a job is named for run budgets; calls outside any run (the proxy) have none. */
export function runIdOf(ctx: { jobId?: string | undefined; messageId?: string | undefined }) {
  return ctx.jobId ?? ctx.messageId;
}
