import type { JobEvent } from "@kiln/protocol";
import { FINAL_JOB_STATES } from "@kiln/protocol";
import { api } from "../../api/endpoints.ts";

const TYPES = ["state", "step", "log", "agent", "cancel-requested"] as const;

/**
 * Follows a job's event log over server-sent events. A dropped stream is reopened with `?after=` the last
 * event seen, so each event arrives once; the stream is left once the job reached a final state.
 */
export function followJob(org: string, jobId: string, onEvent: (event: JobEvent) => void): () => void {
  let last = 0;
  let source: EventSource | undefined;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let failures = 0;

  const stop = () => {
    stopped = true;
    clearTimeout(timer);
    source?.close();
  };

  const onMessage = (message: MessageEvent<string>) => {
    let data: JobEvent;
    try {
      data = JSON.parse(message.data) as JobEvent;
    } catch {
      return;
    }
    if (typeof data?.seq !== "number" || data.seq <= last) return;
    last = data.seq;
    failures = 0;
    onEvent(data);
    if (data.event.type === "state" && FINAL_JOB_STATES.includes(data.event.state)) stop();
  };

  const open = () => {
    source = new EventSource(api.jobs.eventsUrl(org, jobId, last), { withCredentials: true });
    for (const type of TYPES) source.addEventListener(type, onMessage);
    source.addEventListener("error", () => {
      if (stopped) return;
      source?.close();
      failures++;
      timer = setTimeout(() => !stopped && open(), Math.min(10_000, 250 * 2 ** failures));
    });
  };
  open();
  return stop;
}
