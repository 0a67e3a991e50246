import { and, eq, exists, inArray, lt, sql } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { orgs } from "../db/schema-shared.ts";
import { chatEvents, chatMessages } from "../db/schema-tenant.ts";

/**
 * Statuses after which a turn never streams again. An interrupted turn may still be resumed, and a
 * running one is being written: their events stay.
 */
const FINISHED = ["complete", "completed", "cancelled", "failed"];
/** Turns whose events go in one statement, so no transaction grows with the backlog. */
const BATCH = 200;

/**
 * `chat_events` is a replay buffer for browsers that reconnect mid-turn and for other replicas (ADR 0010):
 * every streamed chunk is a row, so a long answer is a thousand of them, while the message keeps its
 * content in `parts`. Once a turn has been finished for `olderThanMs`, nobody replays it: its events go.
 * Returns how many turns lost their events over every org, and in how many orgs that failed (an org
 * deleted meanwhile, say: the others still get their turn, and the next pass retries).
 */
export async function pruneChatEvents(
  database: Database,
  olderThanMs: number,
): Promise<{ turns: number; failedOrgs: number }> {
  const cutoff = new Date(Date.now() - olderThanMs);
  const schemas = await database.db.select({ name: orgs.schemaName }).from(orgs);
  let turns = 0;
  let failedOrgs = 0;
  for (const { name } of schemas) {
    try {
      turns += await pruneOrg(database, name, cutoff);
    } catch {
      failedOrgs++;
    }
  }
  return { turns, failedOrgs };
}

async function pruneOrg(database: Database, name: string, cutoff: Date): Promise<number> {
  let pruned = 0;
  for (;;) {
    const count = await database.tenant(name, async (tx) => {
      const turns = await tx
        .select({ id: chatMessages.id })
        .from(chatMessages)
        .where(
          and(
            inArray(chatMessages.status, FINISHED),
            lt(chatMessages.updatedAt, cutoff),
            exists(
              tx.select({ one: sql`1` }).from(chatEvents).where(eq(chatEvents.messageId, chatMessages.id)),
            ),
          ),
        )
        .limit(BATCH);
      if (turns.length > 0)
        await tx.delete(chatEvents).where(
          inArray(
            chatEvents.messageId,
            turns.map((t) => t.id),
          ),
        );
      return turns.length;
    });
    pruned += count;
    if (count < BATCH) break;
  }
  return pruned;
}
