import { once } from "node:events";
import type { ServerResponse } from "node:http";

// Reverse proxies drop connections idle for a minute or so; a model thinking quietly can take longer.
const KEEPALIVE_MS = 15_000;

/** Writes server-sent events to a raw response, waiting for the socket to drain (never buffering a whole reply). */
export class SseWriter {
  readonly #res: ServerResponse;
  readonly #keepalive: NodeJS.Timeout;
  #lastWrite = Date.now();

  constructor(res: ServerResponse) {
    this.#res = res;
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      connection: "keep-alive",
      "x-accel-buffering": "no",
    });
    // A comment line: every SSE parser (both official clients included) skips it.
    this.#keepalive = setInterval(() => {
      if (Date.now() - this.#lastWrite >= KEEPALIVE_MS) void this.#write(": keepalive\n\n");
    }, KEEPALIVE_MS);
    this.#keepalive.unref();
  }

  get closed(): boolean {
    return this.#res.destroyed || this.#res.writableEnded;
  }

  async data(value: object | string, event?: string): Promise<void> {
    const payload = typeof value === "string" ? value : JSON.stringify(value);
    await this.#write(`${event ? `event: ${event}\n` : ""}data: ${payload}\n\n`);
  }

  async #write(text: string): Promise<void> {
    if (this.closed) return;
    this.#lastWrite = Date.now();
    if (!this.#res.write(text)) {
      // A reader that went away never drains; its close ends the wait too.
      await Promise.race([once(this.#res, "drain"), once(this.#res, "close")]);
    }
  }

  end(): void {
    clearInterval(this.#keepalive);
    if (!this.closed) this.#res.end();
  }
}
