import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { api } from "../../api/endpoints.ts";
import { describeError } from "../../api/errors.ts";
import { keys } from "../../api/keys.ts";
import { Select } from "../../ui/input.tsx";
import { LoadingBlock } from "../../ui/spinner.tsx";
import { EmptyState, ErrorState } from "../../ui/states.tsx";
import { formatCost, formatTokenCount, RANGES, type Range } from "../usage/usage-data.ts";

const DAY_MS = 86_400_000;

/** The whole instance's model calls, tokens and cost, and each org's share, costliest first. */
export function UsagePanel() {
  const [days, setDays] = useState<Range>(30);
  const usage = useQuery({
    queryKey: keys.adminUsage(days),
    queryFn: () => api.admin.usage({ from: new Date(Date.now() - days * DAY_MS).toISOString() }),
    placeholderData: keepPreviousData,
  });
  return (
    <div className="flex flex-col gap-4">
      <Select
        aria-label="Period"
        value={days}
        onChange={(e) => setDays(Number(e.target.value) as Range)}
        className="w-auto self-start text-xs"
      >
        {RANGES.map((r) => (
          <option key={r} value={r}>
            Last {r} days
          </option>
        ))}
      </Select>
      {usage.isPending ? (
        <LoadingBlock label="Loading usage" />
      ) : usage.isError ? (
        <ErrorState message={describeError(usage.error)} onRetry={() => usage.refetch()} />
      ) : (
        <>
          <dl className="grid grid-cols-2 gap-3 sm:grid-cols-4" aria-label="Instance totals">
            {(
              [
                ["Cost", formatCost(usage.data.totals)],
                ["Model calls", String(usage.data.totals.calls)],
                ["Input tokens", formatTokenCount(usage.data.totals.inputTokens)],
                ["Output tokens", formatTokenCount(usage.data.totals.outputTokens)],
              ] as const
            ).map(([label, value]) => (
              <div key={label} className="rounded-md border border-line bg-surface-1 px-3 py-2">
                <dt className="text-xs text-neutral-500">{label}</dt>
                <dd className="text-lg font-semibold text-neutral-100">{value}</dd>
              </div>
            ))}
          </dl>
          {usage.data.orgs.length === 0 ? (
            <EmptyState title="No model calls" description="No org called a model in this period." />
          ) : (
            <div className="overflow-x-auto rounded-md border border-line">
              <table aria-label="Usage per org" className="w-full text-left text-xs">
                <thead className="bg-surface-1 text-neutral-500">
                  <tr>
                    <th className="px-3 py-2 font-medium">Org</th>
                    <th className="px-3 py-2 text-right font-medium">Calls</th>
                    <th className="hidden px-3 py-2 text-right font-medium sm:table-cell">Tokens in / out</th>
                    <th className="px-3 py-2 text-right font-medium">Cost</th>
                  </tr>
                </thead>
                <tbody className="divide-y divide-line">
                  {usage.data.orgs.map((o) => (
                    <tr key={o.id} data-org={o.slug}>
                      <td className="max-w-48 truncate px-3 py-2 text-neutral-100">
                        {o.name} <span className="hidden text-neutral-500 sm:inline">/{o.slug}</span>
                      </td>
                      <td className="px-3 py-2 text-right tabular-nums">{o.calls}</td>
                      <td className="hidden whitespace-nowrap px-3 py-2 text-right tabular-nums sm:table-cell">
                        {formatTokenCount(o.inputTokens)} / {formatTokenCount(o.outputTokens)}
                      </td>
                      <td className="whitespace-nowrap px-3 py-2 text-right tabular-nums text-neutral-100">
                        {formatCost(o)}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <p className="text-xs text-neutral-500">
            Orgs without a model call in the period are not listed. A cost marked “unknown” has calls to
            models without a price.
          </p>
        </>
      )}
    </div>
  );
}
