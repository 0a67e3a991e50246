import { eq } from "drizzle-orm";
import type { FastifyBaseLogger } from "fastify";
import type { Database, Executor } from "../db/client.ts";
import { driverError } from "../db/driver-error.ts";
import { agentRuns } from "../db/schema-shared.ts";
import { chatMessages, chats } from "../db/schema-tenant.ts";
import { isDatabaseUnavailable } from "../db/unavailable.ts";
import type { ChatRun } from "./run.ts";
import { appendEvents } from "./store.ts";

/** The most events a turn holds unsaved while the database is away; past it the turn stops. */
export const MAX_UNSAVED_EVENTS = 20_000;
const RETRY_FIRST_MS = 200;
export const RETRY_MAX_MS = 2000;
/** A write that keeps failing for a reason other than an outage is a bug: a few tries, then give up. */
const MAX_FAILED_WRITES = 3;

export interface FinalState {
  status: string;
  reason: string;
  detail: string | null;
  usage: unknown;
  checkpointSha: string | null;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Writes one turn to the database: its events in order (never renumbered), its parts, its heartbeat, and
 * at the end its final state. Through a database outage the events wait in the run (they are numbered
 * and shown live already) and go in when it is back, before the final state; the final state is retried
 * until it is stored, so the turn is told once, the same way live and stored.
 */
export class RunSaver {
  readonly #database: Database;
  readonly #log: FastifyBaseLogger;
  readonly #run: ChatRun;
  #busy: Promise<void> | undefined;
  #outageSince: number | undefined;

  readonly #onUnavailable: () => void;

  constructor(database: Database, log: FastifyBaseLogger, run: ChatRun, onUnavailable: () => void) {
    this.#database = database;
    this.#log = log;
    this.#run = run;
    this.#onUnavailable = onUnavailable;
  }

  /** Whether the database was away at the last write (the turn's events are waiting in memory). */
  get waiting(): boolean {
    return this.#outageSince !== undefined;
  }

  /** A timer's tick: saves what is new (or beats the heart), unless the last save is still running. */
  tick(): void {
    if (this.#busy) return;
    this.#busy = this.#save()
      .catch((err) => this.#failed(err))
      .finally(() => {
        this.#busy = undefined;
      });
  }

  /**
   * Stores the rest of the events and the final state, retrying through an outage until it is stored or
   * `giveUp()` says the server is going away (the turn then stays "running" in the database, and the next
   * start marks it interrupted — which it then was). Resolves true when stored.
   */
  async finish(final: FinalState, giveUp: () => boolean): Promise<boolean> {
    await this.#busy;
    let wait = RETRY_FIRST_MS;
    let failures = 0;
    for (;;) {
      try {
        await this.#save(final);
        return true;
      } catch (err) {
        this.#failed(err);
        if (!isDatabaseUnavailable(err) && ++failures >= MAX_FAILED_WRITES) return false;
        if (giveUp()) return false;
        await sleep(wait);
        wait = Math.min(wait * 2, RETRY_MAX_MS);
      }
    }
  }

  #failed(err: unknown): void {
    if (isDatabaseUnavailable(err)) {
      this.#onUnavailable();
      if (this.#outageSince === undefined) {
        this.#outageSince = Date.now();
        this.#log.warn(
          { messageId: this.#run.messageId, error: driverError(err) },
          "database unavailable; the turn's events wait in memory",
        );
      }
      return;
    }
    this.#log.error({ err, messageId: this.#run.messageId }, "saving chat events failed");
  }

  async #save(final?: FinalState): Promise<void> {
    const run = this.#run;
    const events = run.unsaved();
    try {
      if (events.length === 0 && !final) {
        await this.#database.db
          .update(agentRuns)
          .set({ heartbeatAt: new Date() })
          .where(eq(agentRuns.messageId, run.messageId));
      } else {
        await this.#database.tenant(run.schemaName, async (tx) => {
          if (final && !(await stillRunning(tx, run.messageId))) {
            // Another replica's sweeper took this turn for dead (its heartbeat went stale through a long
            // outage) and stored its end already: that story stands; adding ours would renumber it.
            this.#log.warn(
              { messageId: run.messageId },
              "the turn was ended elsewhere; its end is not stored",
            );
            return;
          }
          await appendEvents(tx, run.messageId, events);
          await tx
            .update(chatMessages)
            .set({
              parts: run.parts,
              updatedAt: new Date(),
              ...(final
                ? {
                    status: final.status,
                    reason: final.reason,
                    detail: final.detail,
                    usage: final.usage,
                    checkpointSha: final.checkpointSha,
                  }
                : {}),
            })
            .where(eq(chatMessages.id, run.messageId));
          if (final) {
            await tx.update(chats).set({ updatedAt: new Date() }).where(eq(chats.id, run.chatId));
            await tx.delete(agentRuns).where(eq(agentRuns.messageId, run.messageId));
          } else {
            await tx
              .update(agentRuns)
              .set({ heartbeatAt: new Date() })
              .where(eq(agentRuns.messageId, run.messageId));
          }
        });
      }
    } catch (err) {
      // Written again next time, with the same numbers (a write that did commit is skipped by its key).
      if (events[0]) run.markUnsaved(events[0].seq);
      throw err;
    }
    if (this.#outageSince !== undefined) {
      this.#log.info(
        { messageId: run.messageId, waitedMs: Date.now() - this.#outageSince },
        "database back; the turn's waiting events are stored",
      );
      this.#outageSince = undefined;
    }
  }
}

async function stillRunning(tx: Executor, messageId: string): Promise<boolean> {
  const [row] = await tx
    .select({ status: chatMessages.status })
    .from(chatMessages)
    .where(eq(chatMessages.id, messageId))
    .for("update");
  return row?.status === "running";
}
