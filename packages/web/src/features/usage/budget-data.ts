import type { Budget } from "@kiln/protocol";

/** A budget's amount in its unit: dollars to the cent, or finer where the digits are there ($0.0123), or tokens. */
export function formatBudgetAmount(unit: Budget["unit"], n: number): string {
  if (unit === "usd") return `$${n.toFixed(4).replace(/(\.\d\d\d*?)0+$/, "$1")}`;
  return `${Math.round(n).toLocaleString("en-US")} tokens`;
}

/** How full a budget is, 0..1 for the bar (held reservations count), and whether it is past its soft mark. */
export function budgetFill(b: Budget): { spent: number; held: number; soft: boolean; full: boolean } {
  const spent = Math.min(1, b.spent / b.limit);
  const held = Math.min(1 - spent, b.reserved / b.limit);
  return { spent, held, soft: b.spent >= b.softFraction * b.limit, full: b.spent >= b.limit };
}

export function budgetTitle(b: Budget, names: { project(id: string): string | undefined }): string {
  const per = b.period === "monthly" ? "per month" : "per run";
  if (b.scope === "org") return `Whole org · ${per}`;
  if (b.scope === "project") return `Project ${names.project(b.scopeId ?? "") ?? "(deleted)"} · ${per}`;
  return `${b.scope === "user" ? "Member" : "Task"} ${b.scopeId?.slice(0, 8) ?? ""} · ${per}`;
}
