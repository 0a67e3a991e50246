import type { LlmUsageReport, LlmUsageTotals } from "@kiln/protocol";
import type { Bar, Series } from "./charts.tsx";

export type Metric = "cost" | "tokens";

/** Days the usage page can look back. */
export const RANGES = [7, 30, 90] as const;
export type Range = (typeof RANGES)[number];

export const SERIES: Record<Metric, Series[]> = {
  cost: [{ label: "Cost", className: "bg-accent-500" }],
  tokens: [
    { label: "Input", className: "bg-sky-500/80" },
    { label: "Cached input", className: "bg-sky-300/50" },
    { label: "Output", className: "bg-accent-500" },
  ],
};

export function formatUsd(n: number): string {
  if (n === 0) return "$0";
  if (n < 0.01) return `$${n.toFixed(4)}`;
  return `$${n.toFixed(n < 100 ? 2 : 0)}`;
}

/**
 * A cost as far as it is known: calls to models without a price have no cost, so a total that leaves them out
 * says so rather than passing for the whole.
 */
export function formatCost(row: Pick<LlmUsageTotals, "calls" | "costUsd" | "unpricedCalls">): string {
  if (row.unpricedCalls === 0) return formatUsd(row.costUsd);
  if (row.unpricedCalls >= row.calls) return "unknown";
  return `${formatUsd(row.costUsd)} + unknown`;
}

/** "3 calls · 1.5k tokens". */
export function callsAndTokens(row: LlmUsageTotals): string {
  const calls = `${row.calls} call${row.calls === 1 ? "" : "s"}`;
  return `${calls} · ${formatTokenCount(row.inputTokens + row.outputTokens)} tokens`;
}

export function formatTokenCount(n: number): string {
  if (n >= 1_000_000) return `${(n / 1_000_000).toFixed(n >= 10_000_000 ? 0 : 1)}M`;
  if (n >= 1000) return `${(n / 1000).toFixed(n >= 10_000 ? 0 : 1)}k`;
  return String(Math.round(n));
}

export function valuesOf(row: LlmUsageTotals, metric: Metric): number[] {
  if (metric === "cost") return [row.costUsd];
  const cached = Math.min(row.cachedInputTokens, row.inputTokens);
  return [row.inputTokens - cached, cached, row.outputTokens];
}

function titleOf(label: string, row: LlmUsageTotals): string {
  return `${label}\n${row.calls} calls${row.errors ? ` (${row.errors} failed)` : ""}\n${row.inputTokens} input tokens (${row.cachedInputTokens} cached), ${row.outputTokens} output\n${formatCost(row)}${row.unpricedCalls ? ` (${row.unpricedCalls} calls to models without a price)` : ""}`;
}

const EMPTY: LlmUsageTotals = {
  calls: 0,
  errors: 0,
  inputTokens: 0,
  outputTokens: 0,
  cachedInputTokens: 0,
  costUsd: 0,
  unpricedCalls: 0,
};

/** UTC days from `from` up to (not including) `to`, as the API keys them: YYYY-MM-DD. */
export function daysBetween(from: Date, to: Date): string[] {
  const days: string[] = [];
  const d = new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), from.getUTCDate()));
  while (d < to) {
    days.push(d.toISOString().slice(0, 10));
    d.setUTCDate(d.getUTCDate() + 1);
  }
  return days;
}

/** One column per day of the report's range, days without calls included. */
export function dayBars(report: LlmUsageReport, metric: Metric): Bar[] {
  const byDay = new Map(report.rows.map((r) => [r.key, r]));
  return daysBetween(new Date(report.from), new Date(report.to)).map((day) => {
    const row = byDay.get(day) ?? EMPTY;
    const label = new Date(`${day}T00:00:00Z`).toLocaleDateString(undefined, {
      month: "short",
      day: "numeric",
      timeZone: "UTC",
    });
    return { key: day, label, values: valuesOf(row, metric), title: titleOf(label, row) };
  });
}

/**
 * One row per key (a model, a project), largest first under the metric shown, with its calls and tokens. In
 * the cost view a row whose calls had no price stays, its cost shown as unknown.
 */
export function keyedBars(
  report: LlmUsageReport,
  metric: Metric,
  name: (key: string | null) => string,
): Bar[] {
  return report.rows
    .filter((r) => valuesOf(r, metric).some((v) => v > 0) || (metric === "cost" && r.unpricedCalls > 0))
    .map((r) => {
      const label = name(r.key);
      return {
        key: r.key ?? "none",
        label,
        values: valuesOf(r, metric),
        title: titleOf(label, r),
        detail: callsAndTokens(r),
        ...(metric === "cost" ? { shown: formatCost(r) } : {}),
      };
    })
    .sort((a, b) => b.values.reduce((x, y) => x + y, 0) - a.values.reduce((x, y) => x + y, 0));
}
