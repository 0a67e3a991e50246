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
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (data !== undefined) {
            const id = /^id: (\d+)$/m.exec(block)?.[1];
            events.push({
              id: id === undefined ? undefined : Number(id),
              event: /^event: (.*)$/m.exec(block)?.[1],
              data: JSON.parse(data),
            });
          }
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
