import type { LlmUsageGroupBy } from "@kiln/protocol";
import { useQuery } from "@tanstack/react-query";
import { type ReactNode, useMemo } from "react";
import { api } from "../../api/endpoints.ts";
import { describeError } from "../../api/errors.ts";
import { keys } from "../../api/keys.ts";
import { projectsQuery } from "../../api/queries.ts";
import { cn } from "../../ui/cn.ts";
import { LoadingBlock } from "../../ui/spinner.tsx";
import { ErrorState } from "../../ui/states.tsx";
import { BudgetsPanel } from "./budgets-panel.tsx";
import { ColumnChart, RowChart } from "./charts.tsx";
import {
  dayBars,
  formatCost,
  formatTokenCount,
  formatUsd,
  keyedBars,
  type Metric,
  RANGES,
  type Range,
  SERIES,
} from "./usage-data.ts";

function rangeOf(days: Range): { from: string; to: string } {
  const now = new Date();
  // Whole UTC days, so the first column is a full day and the query key is stable within a day.
  const from = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - (days - 1)));
  const to = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1));
  return { from: from.toISOString(), to: to.toISOString() };
}

function useUsage(org: string, days: Range, groupBy: LlmUsageGroupBy) {
  const range = rangeOf(days);
  return useQuery({
    queryKey: keys.usage(org, days, range.from, groupBy),
    queryFn: () => api.llm.usage(org, { ...range, groupBy }),
    refetchInterval: 60_000,
  });
}

/** Tokens and cost of the org's model calls: totals, and bars per day, model and project. */
export function UsagePage({
  org,
  days,
  metric,
  manageBudgets,
  onChange,
}: {
  org: string;
  /** Whether the viewer may add and raise budgets (llm.manage). */
  manageBudgets: boolean;
  days: Range;
  metric: Metric;
  onChange: (next: { days?: Range; metric?: Metric }) => void;
}) {
  const perDay = useUsage(org, days, "day");
  const perModel = useUsage(org, days, "model");
  const perProject = useUsage(org, days, "project");
  const projects = useQuery(projectsQuery(org));
  const projectName = useMemo(() => {
    const names = new Map(projects.data?.map((p) => [p.id, p.name]));
    return (key: string | null) => (key ? (names.get(key) ?? "Deleted project") : "No project (API)");
  }, [projects.data]);
  const format = metric === "cost" ? formatUsd : formatTokenCount;

  const controls = (
    <div className="flex flex-wrap items-center gap-2">
      <Segmented
        label="Range"
        value={days}
        options={RANGES.map((d) => ({ id: d, label: `${d} days` }))}
        onChange={(d) => onChange({ days: d })}
      />
      <Segmented
        label="Measure"
        value={metric}
        options={[
          { id: "cost" as const, label: "Cost" },
          { id: "tokens" as const, label: "Tokens" },
        ]}
        onChange={(m) => onChange({ metric: m })}
      />
    </div>
  );

  if (perDay.isPending) return <LoadingBlock label="Loading usage" />;
  if (perDay.isError) {
    return <ErrorState message={describeError(perDay.error)} onRetry={() => perDay.refetch()} />;
  }
  const t = perDay.data.totals;

  return (
    <div className="flex flex-col gap-6">
      {controls}
      <div className="grid grid-cols-2 gap-3 lg:grid-cols-4">
        <Stat
          label="Estimated cost"
          value={formatCost(t)}
          {...(t.unpricedCalls > 0
            ? { detail: `${t.unpricedCalls} of ${t.calls} calls to models without a price` }
            : {})}
        />
        <Stat
          label="Tokens"
          value={formatTokenCount(t.inputTokens + t.outputTokens)}
          detail={`${formatTokenCount(t.inputTokens)} in · ${formatTokenCount(t.outputTokens)} out`}
        />
        <Stat label="Cached input" value={formatTokenCount(t.cachedInputTokens)} />
        <Stat
          label="Model calls"
          value={String(t.calls)}
          detail={t.errors ? `${t.errors} failed` : "none failed"}
        />
      </div>
      <Card title="Budgets">
        <BudgetsPanel org={org} manage={manageBudgets} />
      </Card>
      <Card title={`Per day · ${metric === "cost" ? "cost" : "tokens"}`}>
        <ColumnChart
          label="Usage per day"
          bars={dayBars(perDay.data, metric)}
          series={SERIES[metric]}
          format={format}
          labelEvery={days === 7 ? 1 : days === 30 ? 5 : 15}
        />
      </Card>
      <div className="grid gap-4 lg:grid-cols-2">
        <Card title="Per model">
          <Keyed
            query={perModel}
            render={(data) => (
              <RowChart
                label="Usage per model"
                bars={keyedBars(data, metric, (k) => k ?? "unknown")}
                series={SERIES[metric]}
                format={format}
                empty="No model calls in this period."
              />
            )}
          />
        </Card>
        <Card title="Per project">
          <Keyed
            query={perProject}
            render={(data) => (
              <RowChart
                label="Usage per project"
                bars={keyedBars(data, metric, projectName)}
                series={SERIES[metric]}
                format={format}
                empty="No model calls in this period."
              />
            )}
          />
        </Card>
      </div>
    </div>
  );
}

function Keyed<T>({
  query,
  render,
}: {
  query: {
    isPending: boolean;
    isError: boolean;
    error: unknown;
    data: T | undefined;
    refetch: () => unknown;
  };
  render: (data: T) => ReactNode;
}) {
  if (query.isPending) return <LoadingBlock />;
  if (query.isError || query.data === undefined) {
    return <ErrorState message={describeError(query.error)} onRetry={() => void query.refetch()} />;
  }
  return <>{render(query.data)}</>;
}

function Stat({ label, value, detail }: { label: string; value: string; detail?: string }) {
  return (
    <div className="rounded-lg border border-line bg-surface-1 px-4 py-3">
      <p className="text-xs text-neutral-500">{label}</p>
      <p className="mt-1 font-mono text-xl font-semibold text-neutral-100">{value}</p>
      {detail && <p className="mt-0.5 text-[11px] text-neutral-500">{detail}</p>}
    </div>
  );
}

function Card({ title, children }: { title: string; children: ReactNode }) {
  return (
    <section className="rounded-lg border border-line bg-surface-1 p-4">
      <h2 className="mb-4 text-xs font-medium tracking-wide text-neutral-400 uppercase">{title}</h2>
      {children}
    </section>
  );
}

function Segmented<T extends string | number>({
  label,
  value,
  options,
  onChange,
}: {
  label: string;
  value: T;
  options: Array<{ id: T; label: string }>;
  onChange: (id: T) => void;
}) {
  return (
    <fieldset aria-label={label} className="flex rounded-md border border-line bg-surface-1 p-0.5">
      {options.map((o) => (
        <button
          key={o.id}
          type="button"
          aria-pressed={o.id === value}
          onClick={() => onChange(o.id)}
          className={cn(
            "rounded px-2.5 py-1 text-xs font-medium",
            o.id === value ? "bg-tint/10 text-neutral-100" : "text-neutral-400 hover:text-neutral-200",
          )}
        >
          {o.label}
        </button>
      ))}
    </fieldset>
  );
}
