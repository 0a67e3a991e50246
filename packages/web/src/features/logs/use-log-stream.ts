import type { LogLine } from "@kiln/protocol";
import { useEffect, useState } from "react";
import { refreshSession } from "../../api/client.ts";
import { api } from "../../api/endpoints.ts";

const KEEP = 2000;

export type StreamState = "connecting" | "live" | "reconnecting";

/**
 * The dev server's output as it happens (server-sent events). EventSource resumes by itself with
 * Last-Event-ID after a drop; when the server refuses the stream outright (an expired session), the
 * session is refreshed and the stream reopened from the last line seen.
 */
export function useLogStream(org: string, project: string, enabled: boolean) {
  const [lines, setLines] = useState<LogLine[]>([]);
  const [state, setState] = useState<StreamState>("connecting");

  useEffect(() => {
    if (!enabled) return;
    let source: EventSource | undefined;
    let last = 0;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let failures = 0;

    const open = () => {
      const url = `${api.runtime.logStreamUrl(org, project)}${last ? `?since=${last}` : ""}`;
      source = new EventSource(url, { withCredentials: true });
      source.onopen = () => {
        failures = 0;
        setState("live");
      };
      source.addEventListener("log", (event) => {
        const line = JSON.parse((event as MessageEvent<string>).data) as LogLine;
        if (line.seq <= last) return;
        last = line.seq;
        setLines((prev) => {
          const next = prev.length >= KEEP ? prev.slice(prev.length - KEEP + 1) : prev.slice();
          next.push(line);
          return next;
        });
      });
      source.onerror = () => {
        if (stopped) return;
        setState("reconnecting");
        if (source?.readyState !== EventSource.CLOSED) return; // the browser retries by itself
        failures++;
        timer = setTimeout(
          async () => {
            await refreshSession();
            if (!stopped) open();
          },
          Math.min(10_000, 1000 * failures),
        );
      };
    };
    open();
    return () => {
      stopped = true;
      clearTimeout(timer);
      source?.close();
    };
  }, [org, project, enabled]);

  return { lines, state, clear: () => setLines([]) };
}
