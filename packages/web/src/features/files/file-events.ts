import { useQueryClient } from "@tanstack/react-query";
import { useEffect } from "react";
import { api } from "../../api/endpoints.ts";
import { useFileEventsState } from "./file-events-state.ts";
import { treeKey } from "./use-file-tree.ts";

/**
 * Follows the project's file changes — made by the agent, the terminal, another person — over
 * server-sent events and refreshes the tree (and through it the open, unmodified editors) when they
 * happen. While the stream is open the tree is polled only as a safety net; a dropped stream is reopened
 * with backoff and, once back, everything is refreshed for what was missed.
 */
export function useFileEvents(org: string, project: string): void {
  const queryClient = useQueryClient();
  useEffect(() => {
    const key = `${org}/${project}`;
    let source: EventSource | undefined;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let failures = 0;
    const refresh = () => void queryClient.invalidateQueries({ queryKey: treeKey(org, project) });
    const open = () => {
      source = new EventSource(api.files.eventsUrl(org, project), { withCredentials: true });
      source.addEventListener("ready", () => {
        failures = 0;
        useFileEventsState.setState({ live: key });
        refresh();
      });
      source.addEventListener("changed", refresh);
      source.addEventListener("error", () => {
        if (stopped) return;
        source?.close();
        useFileEventsState.setState({ live: undefined });
        failures++;
        timer = setTimeout(() => !stopped && open(), Math.min(30_000, 500 * 2 ** failures));
      });
    };
    open();
    return () => {
      stopped = true;
      clearTimeout(timer);
      source?.close();
      if (useFileEventsState.getState().live === key) useFileEventsState.setState({ live: undefined });
    };
  }, [org, project, queryClient]);
}
