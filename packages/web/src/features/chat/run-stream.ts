import type { RunEvent } from "@kiln/protocol";
import { refreshSession } from "../../api/client.ts";
import { AGENT_EVENT_TYPES } from "./fold.ts";

export type RunStreamState = "connecting" | "live" | "reconnecting";

export interface RunStreamHandlers {
  /** Events in order, each once, however often the connection was rebuilt. */
  onEvent(event: RunEvent): void;
  onState(state: RunStreamState): void;
  /** After `message-end`, or when the server has nothing more for a turn that no longer runs. */
  onEnd(): void;
}

/** Connections in a row that closed without a single event before the stream is given up on. */
const EMPTY_LIMIT = 3;

/**
 * Follows one agent turn over server-sent events. Every drop (network, server restart, a proxy cutting an
 * idle stream) reopens the stream with `?after=` the last event seen, so the server replays only what was
 * missed. The browser's own reconnect is not used: it starts again from the first URL and relies on
 * Last-Event-ID, which proxies and interceptors may drop. When the server refused the stream (an expired
 * session: 401), the session is refreshed first. Returns a function that stops following.
 */
export function followRun(
  urlAfter: (after: number) => string,
  after: number,
  handlers: RunStreamHandlers,
): () => void {
  let last = after;
  let source: EventSource | undefined;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let failures = 0;
  let empty = 0;
  let opened = false;
  let gotEvents = false;

  const stop = () => {
    stopped = true;
    clearTimeout(timer);
    source?.close();
  };

  const end = () => {
    if (stopped) return;
    stop();
    handlers.onEnd();
  };

  const onMessage = (message: MessageEvent<string>) => {
    let data: RunEvent;
    try {
      data = JSON.parse(message.data) as RunEvent;
    } catch {
      return;
    }
    // The server's own "stream failed" notice has no seq; the reconnect that follows replays what is missing.
    if (typeof data?.seq !== "number" || !data.event) return;
    gotEvents = true;
    if (data.seq <= last) return;
    last = data.seq;
    handlers.onEvent(data);
    if (data.event.type === "message-end") end();
  };

  const open = () => {
    opened = false;
    gotEvents = false;
    source = new EventSource(urlAfter(last), { withCredentials: true });
    source.onopen = () => {
      opened = true;
      failures = 0;
      handlers.onState("live");
    };
    for (const type of AGENT_EVENT_TYPES) {
      if (type !== "error") source.addEventListener(type, onMessage);
    }
    // `error` is both the agent's error event (a MessageEvent with data) and a dropped connection.
    source.addEventListener("error", (event) => {
      if (event instanceof MessageEvent) return onMessage(event as MessageEvent<string>);
      if (stopped || !source) return;
      const refused = source.readyState === EventSource.CLOSED;
      source.close();
      // Answered, then closed with nothing new, again and again: the turn ended without a message-end.
      if (opened) empty = gotEvents ? 0 : empty + 1;
      if (empty >= EMPTY_LIMIT) return end();
      handlers.onState("reconnecting");
      failures++;
      timer = setTimeout(
        async () => {
          if (refused) await refreshSession();
          if (!stopped) open();
        },
        Math.min(10_000, 250 * 2 ** failures),
      );
    });
  };

  handlers.onState("connecting");
  open();
  return stop;
}
