import { can } from "@kiln/protocol";
import { createFileRoute } from "@tanstack/react-router";
import { MarketplacePage } from "../../../features/marketplace/marketplace-page.tsx";
import { AppHeader } from "../../../features/shell/app-header.tsx";
import { useTitle } from "../../../ui/use-title.ts";

export const Route = createFileRoute("/_app/$org/marketplace")({ component: Marketplace });

function Marketplace() {
  const { org } = Route.useParams();
  const { membership } = Route.useRouteContext();
  useTitle(`${membership.name} · Marketplace`);
  return (
    <div className="flex min-h-full flex-col">
      <AppHeader org={org} />
      <main className="mx-auto w-full max-w-5xl px-4 py-6 sm:px-6 sm:py-8">
        <h1 className="mb-1 text-lg font-semibold text-neutral-50">Marketplace</h1>
        <p className="mb-5 text-xs text-neutral-500">
          Templates published by {membership.name} and, once approved, by every org on this Kiln. Installing
          one makes a new project from its files.
        </p>
        <MarketplacePage org={org} canInstall={can(membership.role, "projects.write")} />
      </main>
    </div>
  );
}
