import { useQuery } from "@tanstack/react-query";
import { api } from "../../api/endpoints.ts";

export const treeKey = (org: string, project: string) => ["orgs", org, "projects", project, "tree"];

/**
 * The project's files. There is no file-event stream yet, so the tree is asked for every two seconds
 * while the page is visible (React Query pauses the interval in background tabs); that is also how the
 * editor learns of files changed by the agent, the terminal or another person.
 */
export function useFileTree(org: string, project: string) {
  return useQuery({
    queryKey: treeKey(org, project),
    queryFn: () => api.files.tree(org, project),
    refetchInterval: 2000,
    staleTime: 1000,
  });
}
