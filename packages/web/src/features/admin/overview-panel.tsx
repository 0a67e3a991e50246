import { useQuery } from "@tanstack/react-query";
import { api } from "../../api/endpoints.ts";
import { describeError } from "../../api/errors.ts";
import { keys } from "../../api/keys.ts";
import { LoadingBlock } from "../../ui/spinner.tsx";
import { EmptyState, ErrorState } from "../../ui/states.tsx";
import { relativeTime } from "../projects/time.ts";
import { Section } from "../settings/section.tsx";

/** The instance at a glance: people, orgs, the job queue, and each worker's health. */
export function OverviewPanel() {
  const overview = useQuery({
    queryKey: keys.adminOverview,
    queryFn: api.admin.overview,
    refetchInterval: 15_000,
  });
  if (overview.isPending) return <LoadingBlock label="Loading the instance" />;
  if (overview.isError) {
    return <ErrorState message={describeError(overview.error)} onRetry={() => overview.refetch()} />;
  }
  const o = overview.data;
  const stats = [
    ["Accounts", o.users],
    ["Suspended", o.suspendedUsers],
    ["Orgs", o.orgs],
    ["Workers online", o.workersOnline],
    ["Jobs queued", o.jobsQueued],
    ["Jobs running", o.jobsRunning],
  ] as const;
  return (
    <div className="flex flex-col gap-8">
      <dl className="grid grid-cols-2 gap-3 sm:grid-cols-3">
        {stats.map(([label, n]) => (
          <div key={label} className="rounded-md border border-line bg-surface-1 px-3 py-2">
            <dt className="text-xs text-neutral-500">{label}</dt>
            <dd className="text-lg font-semibold text-neutral-100">{n}</dd>
          </div>
        ))}
      </dl>
      <Section
        title="Workers"
        description="Every worker seen in the last day, the instance's and the orgs' own."
      >
        {o.workers.length === 0 ? (
          <EmptyState title="No workers" description="Workers take board jobs; none has connected today." />
        ) : (
          <ul
            aria-label="Workers"
            className="flex flex-col divide-y divide-line rounded-md border border-line"
          >
            {o.workers.map((w) => (
              <li key={w.id} className="flex flex-wrap items-center gap-x-3 gap-y-1 px-3 py-2 text-xs">
                <span
                  className={
                    w.online ? "size-2 rounded-full bg-emerald-500" : "size-2 rounded-full bg-neutral-600"
                  }
                  aria-hidden
                />
                <span className="font-medium text-neutral-100">{w.name}</span>
                <span className="text-neutral-500">{w.orgSlug ?? "instance"}</span>
                <span className="text-neutral-500">v{w.version}</span>
                <span className="text-neutral-500">{w.concurrency} at once</span>
                <span className="ml-auto text-neutral-500">
                  {w.online ? "online" : "offline"} · seen {relativeTime(w.lastSeenAt)}
                </span>
              </li>
            ))}
          </ul>
        )}
      </Section>
    </div>
  );
}
