import { sql } from "drizzle-orm";
import { type Database, query } from "../db/client.ts";
import { RateLimitedError } from "../errors/errors.ts";

/**
 * Fixed-window counters kept in Postgres, so the limit holds across server replicas.
 * One upsert per hit; no read-then-write race.
 */
export class RateLimiter {
  readonly #database: Database;
  readonly max: number;
  readonly windowSeconds: number;

  constructor(database: Database, max: number, windowSeconds: number) {
    this.#database = database;
    this.max = max;
    this.windowSeconds = windowSeconds;
  }

  /** Counts a hit for `key`; throws RateLimitedError once the window's budget is spent. */
  async hit(key: string): Promise<void> {
    const [row] = await query<{ count: number; window_start: Date | string }>(
      this.#database.db,
      sql`INSERT INTO rate_limits AS r (key, window_start, count) VALUES (${key}, now(), 1)
          ON CONFLICT (key) DO UPDATE SET
            count = CASE WHEN r.window_start <= now() - ${this.windowSeconds}::int * interval '1 second' THEN 1 ELSE r.count + 1 END,
            window_start = CASE WHEN r.window_start <= now() - ${this.windowSeconds}::int * interval '1 second' THEN now() ELSE r.window_start END
          RETURNING count, window_start`,
    );
    if (row && row.count > this.max) {
      const started = new Date(row.window_start).getTime();
      const retryAfter = Math.max(1, Math.ceil((started + this.windowSeconds * 1000 - Date.now()) / 1000));
      throw new RateLimitedError(retryAfter);
    }
  }

  async reset(key: string): Promise<void> {
    await this.#database.db.execute(sql`DELETE FROM rate_limits WHERE key = ${key}`);
  }
}
