import type { RunEvent } from "@kiln/protocol";
import { eq, inArray, sql } from "drizzle-orm";
import type { FastifyBaseLogger } from "fastify";
import { toolCallEntry } from "../audit/agent.ts";
import { type AuditEntry, recordAudit } from "../audit/record.ts";
import type { Database, Executor } from "../db/client.ts";
import { driverError } from "../db/driver-error.ts";
import { agentRuns } from "../db/schema-shared.ts";
import { chatMessages, chats } from "../db/schema-tenant.ts";
import { isDatabaseUnavailable } from "../db/unavailable.ts";
import type { ChatRun } from "./run.ts";
import { appendEvents, insertEvents, type StoredToolEnd } from "./store.ts";

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

/** A running turn's parts are stored this often (and at its end); its events go in at every tick. */
export const PARTS_EVERY_MS = 2000;
/** The heartbeat in `agent_runs`; other replicas take a turn for dead after HEARTBEAT_STALE_MS (30 s). */
export const HEARTBEAT_EVERY_MS = 5000;

/** What one turn adds to a tick's batch. */
interface Share {
  saver: RunSaver;
  events: RunEvent[];
  parts: boolean;
  heartbeat: boolean;
  /** The last event the stored parts include (set when the batch is written). */
  seq: number;
}

/**
 * Writes one turn to the database: its events in order (never renumbered), its parts, its heartbeat, and
 * at the end its final state. While the turn runs, `RunSavers` writes it together with every other turn
 * of its org in one transaction per tick (a tick per turn made hundreds of small transactions a second at
 * a few hundred chats). Its events go in at every tick; its parts and heartbeat less often — the parts of
 * a running turn are shown from memory here and folded from its events by a client elsewhere, and a turn
 * whose server died gets its parts folded again from its stored events (engine `interruptInTx`).
 * Through a database outage the events wait in the run (they are numbered and shown live already) and go
 * in when it is back, before the final state; the final state is retried until it is stored, so the turn
 * is told once, the same way live and stored.
 */
export class RunSaver {
  readonly #database: Database;
  readonly #log: FastifyBaseLogger;
  readonly run: ChatRun;
  #busy: Promise<void> | undefined;
  #outageSince: number | undefined;
  #partsSavedAt = Date.now();
  #partsSavedSeq: number;
  #beatAt = Date.now();

  readonly #onUnavailable: () => void;

  constructor(database: Database, log: FastifyBaseLogger, run: ChatRun, onUnavailable: () => void) {
    this.#database = database;
    this.#log = log;
    this.run = run;
    this.#onUnavailable = onUnavailable;
    this.#partsSavedSeq = run.lastSeq;
  }

  /** Whether the database was away at the last write (the turn's events are waiting in memory). */
  get waiting(): boolean {
    return this.#outageSince !== undefined;
  }

  get busy(): boolean {
    return this.#busy !== undefined;
  }

  /** This turn's part of a tick's batch, or undefined when it has nothing due. Marks its events taken. */
  take(now: number): Share | undefined {
    const events = this.run.unsaved();
    const parts = this.run.lastSeq > this.#partsSavedSeq && now - this.#partsSavedAt >= PARTS_EVERY_MS;
    const heartbeat = now - this.#beatAt >= HEARTBEAT_EVERY_MS;
    if (events.length === 0 && !parts && !heartbeat) return undefined;
    return { saver: this, events, parts, heartbeat, seq: this.run.lastSeq };
  }

  /** The batch holding this turn's share is being written; `finish` waits for it. */
  hold(write: Promise<void>): void {
    this.#busy = write.finally(() => {
      this.#busy = undefined;
    });
  }

  /** The batch with this share is stored (`err` undefined) or failed (its events are taken again). */
  settled(share: Share, at: number, err?: unknown): void {
    if (err !== undefined) {
      // Written again next time, with the same numbers (a write that did commit is skipped by its key).
      if (share.events[0]) this.run.markUnsaved(share.events[0].seq);
      this.#failed(err);
      return;
    }
    if (share.parts) {
      this.#partsSavedAt = at;
      this.#partsSavedSeq = share.seq;
    }
    if (share.heartbeat) this.#beatAt = at;
    this.run.toolCallsStored(share.events);
    this.#back();
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
        await this.#saveFinal(final);
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
          { messageId: this.run.messageId, error: driverError(err) },
          "database unavailable; the turn's events wait in memory",
        );
      }
      return;
    }
    this.#log.error({ err, messageId: this.run.messageId }, "saving chat events failed");
  }

  #back(): void {
    if (this.#outageSince === undefined) return;
    this.#log.info(
      { messageId: this.run.messageId, waitedMs: Date.now() - this.#outageSince },
      "database back; the turn's waiting events are stored",
    );
    this.#outageSince = undefined;
  }

  async #saveFinal(final: FinalState): Promise<void> {
    const run = this.run;
    const events = run.unsaved();
    try {
      await this.#database.tenant(run.schemaName, async (tx) => {
        if (!(await stillRunning(tx, run.messageId))) {
          // Another replica's sweeper took this turn for dead (its heartbeat went stale through a long
          // outage) and stored its end already: that story stands; adding ours would renumber it.
          this.#log.warn({ messageId: run.messageId }, "the turn was ended elsewhere; its end is not stored");
          return;
        }
        const ended = await appendEvents(tx, run.messageId, events, { toolEnds: endsTools(run, events) });
        await recordAudit(tx, ...toolCallAudits(ended, [run]));
        await tx
          .update(chatMessages)
          .set({
            parts: run.parts,
            updatedAt: new Date(),
            status: final.status,
            reason: final.reason,
            detail: final.detail,
            usage: final.usage,
            checkpointSha: final.checkpointSha,
          })
          .where(eq(chatMessages.id, run.messageId));
        await tx.update(chats).set({ updatedAt: new Date() }).where(eq(chats.id, run.chatId));
        await tx.delete(agentRuns).where(eq(agentRuns.messageId, run.messageId));
      });
    } catch (err) {
      if (events[0]) run.markUnsaved(events[0].seq);
      throw err;
    }
    run.toolCallsStored(events);
    this.#back();
  }
}

/**
 * The running turns' savers, written on one timer: per tick, one transaction per org schema holds every
 * turn's new events (one INSERT), the parts that are due (one UPDATE) and the heartbeats that are due
 * (one UPDATE). A schema whose last batch is still being written is skipped until it is done, so a turn's
 * writes never overtake each other.
 */
export class RunSavers {
  readonly #database: Database;
  readonly #savers = new Set<RunSaver>();
  readonly #writing = new Set<string>();
  readonly #timer: NodeJS.Timeout;

  constructor(database: Database, everyMs: number) {
    this.#database = database;
    this.#timer = setInterval(() => this.tick(), everyMs);
    this.#timer.unref();
  }

  add(saver: RunSaver): void {
    this.#savers.add(saver);
  }

  /** The turn is ending: no more ticks for it (its `finish` waits for a batch already holding it). */
  remove(saver: RunSaver): void {
    this.#savers.delete(saver);
  }

  tick(): void {
    const now = Date.now();
    const bySchema = new Map<string, Share[]>();
    for (const saver of this.#savers) {
      const schema = saver.run.schemaName;
      if (this.#writing.has(schema) || saver.busy) continue;
      const share = saver.take(now);
      if (!share) continue;
      const list = bySchema.get(schema);
      if (list) list.push(share);
      else bySchema.set(schema, [share]);
    }
    for (const [schema, shares] of bySchema) {
      this.#writing.add(schema);
      const write = writeBatch(this.#database, schema, shares).then(
        () => {
          for (const share of shares) share.saver.settled(share, now);
        },
        (err: unknown) => {
          for (const share of shares) share.saver.settled(share, now, err);
        },
      );
      for (const share of shares) share.saver.hold(write);
      void write.finally(() => this.#writing.delete(schema));
    }
  }

  close(): void {
    clearInterval(this.#timer);
  }
}

async function writeBatch(database: Database, schemaName: string, shares: Share[]): Promise<void> {
  const rows = shares.flatMap((s) =>
    s.events.map((e) => ({ messageId: s.saver.run.messageId, seq: e.seq, event: e.event })),
  );
  const parts = shares.filter((s) => s.parts);
  const beats = shares.filter((s) => s.heartbeat).map((s) => s.saver.run.messageId);
  // The parts as of now: the seq they include goes with them (a later tick stores newer ones).
  for (const s of parts) s.seq = s.saver.run.lastSeq;
  const partsJson = parts.map((s) => ({
    id: s.saver.run.messageId,
    parts: JSON.stringify(s.saver.run.parts),
  }));
  const runs = shares.map((s) => s.saver.run);
  const toolEnds = shares.some((s) => endsTools(s.saver.run, s.events));
  await database.tenant(schemaName, async (tx) => {
    const ended = await insertEvents(tx, rows, { toolEnds });
    // The agent's tool calls that ended, in the transaction that stores their results (ADR 0033): one
    // INSERT, and only in a batch that holds one.
    await recordAudit(tx, ...toolCallAudits(ended, runs));
    if (partsJson.length > 0) {
      const values = sql.join(
        partsJson.map((p) => sql`(${p.id}::uuid, ${p.parts}::jsonb)`),
        sql`, `,
      );
      await tx.execute(
        sql`UPDATE ${chatMessages} SET parts = v.parts, updated_at = now() FROM (VALUES ${values}) AS v(id, parts) WHERE ${chatMessages.id} = v.id`,
      );
    }
    if (beats.length > 0)
      await tx.update(agentRuns).set({ heartbeatAt: new Date() }).where(inArray(agentRuns.messageId, beats));
  });
}

async function stillRunning(tx: Executor, messageId: string): Promise<boolean> {
  const [row] = await tx
    .select({ status: chatMessages.status })
    .from(chatMessages)
    .where(eq(chatMessages.id, messageId))
    .for("update");
  return row?.status === "running";
}

/** Whether these events of `run` end a tool call (their audit records are then written with them). */
function endsTools(run: ChatRun, events: readonly RunEvent[]): boolean {
  return run.heldToolCalls > 0 && events.some((e) => run.toolCall(e.seq) !== undefined);
}

/** The audit records of the tool-call ends an insert stored: the agent acted for the turn's sender. */
function toolCallAudits(ended: StoredToolEnd[], runs: ChatRun[]): AuditEntry[] {
  if (ended.length === 0) return [];
  const byMessage = new Map(runs.map((r) => [r.messageId, r]));
  return ended.flatMap(({ messageId, seq }) => {
    const run = byMessage.get(messageId);
    const call = run?.toolCall(seq);
    if (!run || !call) return [];
    return [
      toolCallEntry(call, {
        orgId: run.orgId,
        userId: run.userId,
        projectId: run.projectId,
        target: { type: "chat", id: run.chatId },
        source: "chat",
      }),
    ];
  });
}
