import { createFileRoute } from "@tanstack/react-router";
import { AdminAuditPanel } from "../../features/admin/audit-panel.tsx";
import { OrgsPanel } from "../../features/admin/orgs-panel.tsx";
import { OverviewPanel } from "../../features/admin/overview-panel.tsx";
import { SignupPanel } from "../../features/admin/signup-panel.tsx";
import { UsagePanel } from "../../features/admin/usage-panel.tsx";
import { UsersPanel } from "../../features/admin/users-panel.tsx";
import { homeOrg } from "../../features/auth/session.ts";
import { useMe } from "../../features/auth/use-me.ts";
import { PendingListingsPanel } from "../../features/marketplace/pending-panel.tsx";
import { AppHeader } from "../../features/shell/app-header.tsx";
import { EmptyState } from "../../ui/states.tsx";
import { Tabs } from "../../ui/tabs.tsx";
import { useTitle } from "../../ui/use-title.ts";

type Section = "overview" | "accounts" | "orgs" | "usage" | "signup" | "marketplace" | "log";
const SECTIONS: Section[] = ["overview", "accounts", "orgs", "usage", "signup", "marketplace", "log"];

/** The instance administrator's pages (ADR 0034): the whole instance, not one org. */
export const Route = createFileRoute("/_app/admin")({
  validateSearch: (search: Record<string, unknown>): { tab?: Section } =>
    SECTIONS.includes(search.tab as Section) ? { tab: search.tab as Section } : {},
  component: Admin,
});

function Admin() {
  const me = useMe();
  const { tab = "overview" } = Route.useSearch();
  const navigate = Route.useNavigate();
  useTitle("Instance admin");
  const org = homeOrg(me);
  return (
    <div className="flex min-h-full flex-col">
      {org && <AppHeader org={org} />}
      <main className="mx-auto w-full max-w-4xl px-4 py-6 sm:px-6 sm:py-8">
        <h1 className="mb-1 text-lg font-semibold text-neutral-50">Instance admin</h1>
        <p className="mb-5 text-xs text-neutral-500">
          Every account and org on this Kiln, what they spend on models, and who may join.
        </p>
        {!me.instanceAdmin ? (
          <EmptyState
            title="Not for you"
            description="Only the instance's administrator sees these pages (KILN_ADMIN_EMAILS, or the first account)."
          />
        ) : (
          <>
            <Tabs
              label="Admin sections"
              tabs={[
                { id: "overview" as const, label: "Overview" },
                { id: "accounts" as const, label: "Accounts" },
                { id: "orgs" as const, label: "Orgs" },
                { id: "usage" as const, label: "Usage" },
                { id: "signup" as const, label: "Sign-up" },
                { id: "marketplace" as const, label: "Marketplace" },
                { id: "log" as const, label: "Admin log" },
              ]}
              active={tab}
              onChange={(t) => void navigate({ search: { tab: t }, replace: true })}
              className="mb-6 overflow-x-auto rounded-t-md border border-line"
            />
            {tab === "overview" && <OverviewPanel />}
            {tab === "accounts" && <UsersPanel />}
            {tab === "orgs" && <OrgsPanel />}
            {tab === "usage" && <UsagePanel />}
            {tab === "signup" && <SignupPanel />}
            {tab === "marketplace" && <PendingListingsPanel />}
            {tab === "log" && <AdminAuditPanel />}
          </>
        )}
      </main>
    </div>
  );
}
