import { useQuery } from "@tanstack/react-query";
import { api } from "../../api/endpoints.ts";
import { keys } from "../../api/keys.ts";
import { useFileEventsState } from "./file-events-state.ts";

/**
 * The project's files. While the change stream is open (`useFileEvents`) the tree is refetched when
 * files change and polled only every 30 s as a safety net; without it, every two seconds while the page
 * is visible (React Query pauses the interval in background tabs).
 */
export function useFileTree(org: string, project: string) {
  const live = useFileEventsState((s) => s.live === `${org}/${project}`);
  return useQuery({
    queryKey: keys.tree(org, project),
    queryFn: () => api.files.tree(org, project),
    refetchInterval: live ? 30_000 : 2000,
    staleTime: 1000,
  });
}
