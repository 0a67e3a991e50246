import http from "node:http";

export interface SseMessage {
  id: number | undefined;
  event: string | undefined;
  data: unknown;
}

/**
 * Reads server-sent events over real HTTP like an EventSource would, until the server ends the stream,
 * `until` says enough (the connection is then dropped, as a closing tab would), or `timeoutMs` passes.
 */
export function readSse(
  url: string,
  options: {
    method?: "GET" | "POST";
    headers?: Record<string, string>;
    body?: unknown;
    until?: (events: SseMessage[]) => boolean;
    timeoutMs?: number;
  } = {},
): Promise<{ status: number; events: SseMessage[]; ended: boolean }> {
  return new Promise((resolve, reject) => {
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const headers: Record<string, string> = { accept: "text/event-stream", ...options.headers };
    if (body !== undefined) headers["content-type"] = "application/json";
    const req = http.request(url, { method: options.method ?? "GET", headers }, (res) => {
      const events: SseMessage[] = [];
      let buffer = "";
      let done = false;
      const finish = (ended: boolean) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, events, ended });
      };
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        buffer += chunk;
        let end = buffer.indexOf("\n\n");
        while (end >= 0) {
          const message = parseBlock(buffer.slice(0, end));
          if (message) events.push(message);
          buffer = buffer.slice(end + 2);
          end = buffer.indexOf("\n\n");
        }
        if (options.until?.(events)) {
          req.destroy();
          finish(false);
        }
      });
      res.on("end", () => finish(true));
      res.on("close", () => finish(false));
    });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`no end of the event stream in time: ${url}`));
    }, options.timeoutMs ?? 60_000);
    timer.unref();
    req.on("error", (err) => {
      if (!/aborted|socket hang up/.test(err.message)) reject(err);
    });
    req.end(body);
  });
}

export interface OpenSse {
  status: number;
  /** The body of a refusal (anything but 200), parsed as JSON. */
  refusal: unknown;
  /** Events so far; grows while the stream is open. */
  events: SseMessage[];
  /** Resolves when the server ends the stream or the connection goes. */
  ended: Promise<void>;
  /** Closes the connection the polite way (FIN), as a closing tab does. */
  close(): void;
  /** Drops the connection with a TCP reset, as a crashed client or a cut network does. */
  reset(): void;
}

/** Opens an event stream and hands it back once the server answered; read `events` as they arrive. */
export function openSse(url: string, headers: Record<string, string> = {}): Promise<OpenSse> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { headers: { accept: "text/event-stream", ...headers } }, (res) => {
      const events: SseMessage[] = [];
      let buffer = "";
      let raw = "";
      res.setEncoding("utf8");
      const ended = new Promise<void>((done) => {
        res.on("close", done);
        res.on("error", done);
      });
      const stream: OpenSse = {
        status: res.statusCode ?? 0,
        refusal: undefined,
        events,
        ended,
        close: () => req.destroy(),
        reset: () => req.socket?.resetAndDestroy(),
      };
      if (res.statusCode !== 200) {
        res.on("data", (chunk: string) => {
          raw += chunk;
        });
        res.on("end", () => {
          stream.refusal = raw ? JSON.parse(raw) : undefined;
          resolve(stream);
        });
        return;
      }
      res.on("data", (chunk: string) => {
        buffer += chunk;
        let end = buffer.indexOf("\n\n");
        while (end >= 0) {
          const message = parseBlock(buffer.slice(0, end));
          if (message) events.push(message);
          buffer = buffer.slice(end + 2);
          end = buffer.indexOf("\n\n");
        }
      });
      resolve(stream);
    });
    req.on("error", (err) => {
      if (!/aborted|socket hang up|ECONNRESET/.test(err.message)) reject(err);
    });
    req.end();
  });
}

function parseBlock(block: string): SseMessage | undefined {
  const data = /^data: (.*)$/m.exec(block)?.[1];
  if (data === undefined) return undefined;
  const id = /^id: (\d+)$/m.exec(block)?.[1];
  return {
    id: id === undefined ? undefined : Number(id),
    event: /^event: (.*)$/m.exec(block)?.[1],
    data: JSON.parse(data),
  };
}
