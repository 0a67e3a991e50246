import { can } from "@kiln/protocol";
import { createFileRoute } from "@tanstack/react-router";
import { AppHeader } from "../../../features/shell/app-header.tsx";
import { type Metric, RANGES, type Range } from "../../../features/usage/usage-data.ts";
import { UsagePage } from "../../../features/usage/usage-page.tsx";
import { useTitle } from "../../../ui/use-title.ts";

export const Route = createFileRoute("/_app/$org/usage")({
  validateSearch: (search: Record<string, unknown>): { days?: Range; metric?: Metric } => ({
    ...(RANGES.includes(Number(search.days) as Range) ? { days: Number(search.days) as Range } : {}),
    ...(search.metric === "tokens" || search.metric === "cost" ? { metric: search.metric } : {}),
  }),
  component: Usage,
});

function Usage() {
  const { org } = Route.useParams();
  const { days = 30, metric = "cost" } = Route.useSearch();
  const { membership } = Route.useRouteContext();
  const navigate = Route.useNavigate();
  useTitle(`${membership.name} · Usage`);
  return (
    <div className="flex min-h-full flex-col">
      <AppHeader org={org} />
      <main className="mx-auto w-full max-w-5xl px-4 py-6 sm:px-6 sm:py-8">
        <h1 className="mb-1 text-lg font-semibold text-neutral-50">Usage</h1>
        <p className="mb-5 text-xs text-neutral-500">
          Model calls of everyone in {membership.name}: chats, jobs and the API. Costs are estimates from the
          price table in Settings → Models.
        </p>
        <UsagePage
          org={org}
          days={days}
          metric={metric}
          manageBudgets={can(membership.role, "llm.manage")}
          onChange={(next) => void navigate({ search: (s) => ({ ...s, ...next }), replace: true })}
        />
      </main>
    </div>
  );
}
