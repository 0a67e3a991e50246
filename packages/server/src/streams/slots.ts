import { KilnError } from "../errors/errors.ts";

/** One more live stream than a user may hold: 429 with the limit, so a client can tell it from a rate limit. */
export class TooManyStreamsError extends KilnError {
  constructor(limit: number) {
    super("too_many_streams", `at most ${limit} live streams per user at once; close one first`, {
      details: { limit },
      headers: { "retry-after": "5" },
    });
  }
}

/**
 * Live streams open per user on this server (`KILN_MAX_STREAMS_PER_USER`). Each stream holds a socket,
 * timers and a share of a poller until it closes, so one user opening thousands could slow every tenant
 * down; past the cap the next one is refused before any work starts. The count lives in this process:
 * behind a load balancer each replica allows the cap by itself.
 */
export class StreamSlots {
  readonly limit: number;
  readonly #open = new Map<string, number>();

  constructor(limit: number) {
    this.limit = limit;
  }

  /** Takes a slot for `owner` or throws `TooManyStreamsError`; the returned release may be called any number of times. */
  take(owner: string): () => void {
    const held = this.#open.get(owner) ?? 0;
    if (held >= this.limit) throw new TooManyStreamsError(this.limit);
    this.#open.set(owner, held + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.#open.get(owner) ?? 1) - 1;
      if (left > 0) this.#open.set(owner, left);
      else this.#open.delete(owner);
    };
  }

  /** Streams `owner` holds open now. */
  held(owner: string): number {
    return this.#open.get(owner) ?? 0;
  }
}
