import { useQuery } from "@tanstack/react-query";
import { api } from "../../api/endpoints.ts";
import { keys } from "../../api/keys.ts";

/** "Update available" when the marketplace listing a project was installed from has a newer version. */
export function UpdateBadge({ org, project }: { org: string; project: string }) {
  const { data } = useQuery({
    queryKey: keys.projectMarketplace(org, project),
    queryFn: () => api.marketplace.project(org, project),
  });
  const from = data?.installedFrom;
  if (!from?.updateAvailable) return null;
  return (
    <span
      className="rounded bg-accent-600/20 px-1.5 py-0.5 text-[11px] font-medium text-accent-300"
      title={`“${from.name}” has version ${from.latestVersion}; this project is from version ${from.version}`}
      data-testid="update-available"
    >
      Update available: v{from.latestVersion}
    </span>
  );
}
