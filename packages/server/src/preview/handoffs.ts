import { lt, sql } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { previewHandoffs } from "../db/schema-shared.ts";

/**
 * Which preview hand-off tokens have been exchanged. The table is shared by every replica, so a hand-off
 * link copied out of a browser (history, a screenshot, a proxy log) is dead once the studio used it, even
 * within its minute and even on another replica.
 */
export class UsedHandoffs {
  readonly #database: Database;

  constructor(database: Database) {
    this.#database = database;
  }

  /** True for the first claim of a token id, false for every later one. */
  async claim(tokenId: string, expiresAt: Date): Promise<boolean> {
    const rows = await this.#database.db
      .insert(previewHandoffs)
      .values({ tokenId, expiresAt })
      .onConflictDoNothing()
      .returning({ tokenId: previewHandoffs.tokenId });
    return rows.length === 1;
  }

  /** Forgets tokens that have expired: their signature no longer verifies, so no row is needed to refuse them. */
  async prune(): Promise<number> {
    const rows = await this.#database.db
      .delete(previewHandoffs)
      .where(lt(previewHandoffs.expiresAt, sql`now() - interval '1 minute'`))
      .returning({ tokenId: previewHandoffs.tokenId });
    return rows.length;
  }
}
