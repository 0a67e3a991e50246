import { RateLimiter } from "../auth/rate-limiter.ts";
import type { Database } from "../db/client.ts";
import { DatabaseUnavailableError, isDatabaseUnavailable } from "../db/unavailable.ts";
import { KilnError, RateLimitedError } from "../errors/errors.ts";
import type { ModelRetryNotice } from "./call-context.ts";

/** How long a model call waits for a database that went away (a restart): about 8 s in all. */
const DATABASE_WAITS_MS = [250, 500, 1000, 2000, 4000];

export interface HitOptions {
  signal?: AbortSignal | undefined;
  /** Told before each wait for the database, so a chat can say why it pauses. */
  onWait?: ((notice: ModelRetryNotice) => void) | undefined;
  waitsMs?: readonly number[];
}

/**
 * Model calls per org per minute, counted in Postgres (the shared `rate_limits` table) so the limit holds
 * across replicas. The limit may differ per org, so one fixed-window counter per distinct limit. The count
 * needs the database: while it is away the call waits a little, then fails as `database_unavailable`
 * (never as the model's error, and never with the SQL in the message).
 */
export class LlmRateLimiter {
  readonly #database: Database;
  readonly #byLimit = new Map<number, RateLimiter>();

  constructor(database: Database) {
    this.#database = database;
  }

  async hit(orgId: string, perMinute: number, options: HitOptions = {}): Promise<void> {
    let limiter = this.#byLimit.get(perMinute);
    if (!limiter) {
      limiter = new RateLimiter(this.#database, perMinute, 60);
      this.#byLimit.set(perMinute, limiter);
    }
    const waits = options.waitsMs ?? DATABASE_WAITS_MS;
    for (let attempt = 0; ; attempt++) {
      try {
        await limiter.hit(`llm:org:${orgId}`);
        return;
      } catch (err) {
        if (err instanceof RateLimitedError) throw tooMany(err, perMinute);
        if (!isDatabaseUnavailable(err)) throw err;
        const waitMs = waits[attempt];
        if (waitMs === undefined || options.signal?.aborted) {
          throw new DatabaseUnavailableError(
            err,
            "Kiln lost its database and could not get it back in time; resume this turn to continue",
          );
        }
        options.onWait?.({
          retry: attempt + 1,
          maxRetries: waits.length,
          waitMs,
          code: "database_unavailable",
          message: "Kiln lost its database for a moment; retrying",
        });
        await pause(waitMs, options.signal);
      }
    }
  }

  async reset(orgId: string): Promise<void> {
    await new RateLimiter(this.#database, 1, 60).reset(`llm:org:${orgId}`);
  }
}

function tooMany(err: RateLimitedError, perMinute: number): KilnError {
  const { retryAfterSeconds } = err.details as { retryAfterSeconds: number };
  return new KilnError(
    "rate_limited",
    `this org may make ${perMinute} model calls per minute; try again in ${retryAfterSeconds} s`,
    { details: { retryAfterSeconds, limitPerMinute: perMinute }, headers: err.headers },
  );
}

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
