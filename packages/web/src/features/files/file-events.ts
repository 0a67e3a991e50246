import { useQueryClient } from "@tanstack/react-query";
import { useEffect } from "react";
import { refreshSession } from "../../api/client.ts";
import { api } from "../../api/endpoints.ts";
import { keys } from "../../api/keys.ts";
import { useFileEventsState } from "./file-events-state.ts";

/**
 * Follows the project's file changes — made by the agent, the terminal, another person — over
 * server-sent events and refreshes the tree (and through it the open, unmodified editors) when they
 * happen. While the stream is open the tree is polled only as a safety net; a dropped stream is reopened
 * (by the browser, or after a session refresh when it was refused) and, once back, everything is
 * refreshed for what was missed. A tab in the background closes its stream (browsers allow six connections
 * per host over HTTP/1.1, shared by every tab of the studio) and opens it again when it is shown.
 */
export function useFileEvents(org: string, project: string): void {
  const queryClient = useQueryClient();
  useEffect(() => {
    const key = `${org}/${project}`;
    let source: EventSource | undefined;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let failures = 0;
    const visible = () => document.visibilityState !== "hidden";
    const refresh = () => void queryClient.invalidateQueries({ queryKey: keys.tree(org, project) });
    const open = () => {
      clearTimeout(timer);
      const own = new EventSource(api.files.eventsUrl(org, project), { withCredentials: true });
      source = own;
      own.addEventListener("ready", () => {
        failures = 0;
        useFileEventsState.setState({ live: key });
        refresh();
      });
      own.addEventListener("changed", refresh);
      own.addEventListener("error", () => {
        // Only the current stream decides; one closed meanwhile (tab hidden, reopened) has no say.
        if (stopped || source !== own) return;
        useFileEventsState.setState({ live: undefined });
        // A dropped connection is retried by the browser itself ("ready" comes again). A refused one (an
        // expired session, say) is closed for good: refresh the session, then open a new stream.
        if (own.readyState !== EventSource.CLOSED) return;
        source = undefined;
        failures++;
        timer = setTimeout(
          async () => {
            if (stopped || source || !visible()) return;
            await refreshSession();
            if (!stopped && !source && visible()) open();
          },
          Math.min(30_000, 500 * 2 ** failures),
        );
      });
    };
    const close = () => {
      clearTimeout(timer);
      source?.close();
      source = undefined;
      if (useFileEventsState.getState().live === key) useFileEventsState.setState({ live: undefined });
    };
    const onVisibility = () => {
      if (document.visibilityState === "hidden") close();
      else if (!source) {
        failures = 0;
        open();
      }
    };
    document.addEventListener("visibilitychange", onVisibility);
    if (document.visibilityState !== "hidden") open();
    return () => {
      stopped = true;
      document.removeEventListener("visibilitychange", onVisibility);
      close();
    };
  }, [org, project, queryClient]);
}
