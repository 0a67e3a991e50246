import { RateLimiter } from "../auth/rate-limiter.ts";
import type { Database } from "../db/client.ts";
import { KilnError, RateLimitedError } from "../errors/errors.ts";

/**
 * Model calls per org per minute, counted in Postgres (the shared `rate_limits` table) so the limit holds
 * across replicas. The limit may differ per org, so one fixed-window counter per distinct limit.
 */
export class LlmRateLimiter {
  readonly #database: Database;
  readonly #byLimit = new Map<number, RateLimiter>();

  constructor(database: Database) {
    this.#database = database;
  }

  async hit(orgId: string, perMinute: number): Promise<void> {
    let limiter = this.#byLimit.get(perMinute);
    if (!limiter) {
      limiter = new RateLimiter(this.#database, perMinute, 60);
      this.#byLimit.set(perMinute, limiter);
    }
    try {
      await limiter.hit(`llm:org:${orgId}`);
    } catch (err) {
      if (!(err instanceof RateLimitedError)) throw err;
      const { retryAfterSeconds } = err.details as { retryAfterSeconds: number };
      throw new KilnError(
        "rate_limited",
        `this org may make ${perMinute} model calls per minute; try again in ${retryAfterSeconds} s`,
        { details: { retryAfterSeconds, limitPerMinute: perMinute }, headers: err.headers },
      );
    }
  }

  async reset(orgId: string): Promise<void> {
    await new RateLimiter(this.#database, 1, 60).reset(`llm:org:${orgId}`);
  }
}
