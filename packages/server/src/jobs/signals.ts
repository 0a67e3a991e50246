import { randomUUID } from "node:crypto";
import type { PGlite } from "@electric-sql/pglite";
import { CancelReason } from "@kiln/protocol";
import { sql } from "drizzle-orm";
import type { FastifyBaseLogger } from "fastify";
import pg from "pg";
import { z } from "zod";
import type { Database } from "../db/client.ts";

const CHANNEL = "kiln_jobs";
const RECONNECT_MS = 1000;

/** What one server tells the others (and itself) about jobs. */
const JobSignal = z.discriminatedUnion("t", [
  z.object({ t: z.literal("queued") }),
  z.object({ t: z.literal("events"), jobId: z.string() }),
  z.object({
    t: z.literal("cancel"),
    workerId: z.string(),
    jobId: z.string(),
    attempt: z.number(),
    reason: CancelReason,
  }),
  z.object({ t: z.literal("revoked"), tokenId: z.string() }),
  z.object({ t: z.literal("org-deleted"), orgId: z.string() }),
  /** A worker registered on connection `conn`: any other connection of the same worker is stale. */
  z.object({ t: z.literal("registered"), workerId: z.string(), conn: z.string() }),
]);
export type JobSignal = z.infer<typeof JobSignal>;
const Envelope = z.object({ o: z.string(), s: JobSignal });

/**
 * Wakes whoever waits on jobs: in this process at once, in other replicas through PostgreSQL
 * LISTEN/NOTIFY (on both drivers: PGlite delivers NOTIFY to its own listeners, node-postgres gets a
 * dedicated connection outside the pool). A lost notification costs latency, never correctness: the
 * dispatcher and event followers also poll.
 */
export class JobSignals {
  readonly #database: Database;
  readonly #log: FastifyBaseLogger;
  readonly #origin = randomUUID();
  readonly #listeners = new Set<(signal: JobSignal) => void>();
  #stop: (() => Promise<void>) | undefined;
  #closed = false;

  constructor(database: Database, log: FastifyBaseLogger) {
    this.#database = database;
    this.#log = log;
  }

  on(listener: (signal: JobSignal) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  publish(signal: JobSignal): void {
    this.#emit(signal);
    const payload = JSON.stringify({ o: this.#origin, s: signal });
    this.#database.db.execute(sql`SELECT pg_notify(${CHANNEL}, ${payload})`).catch((err) => {
      if (!this.#closed) this.#log.warn({ err }, "publishing a job signal failed");
    });
  }

  /** Starts listening; resolves once the first LISTEN is in place (or failed, to be retried meanwhile). */
  async start(): Promise<void> {
    const client = (this.#database.db as unknown as { $client: unknown }).$client;
    if (this.#database.kind === "pglite") {
      const unlisten = await (client as PGlite).listen(CHANNEL, (payload) => this.#receive(payload));
      this.#stop = () => unlisten();
    } else {
      const { stop, first } = this.#listenPg(client as pg.Pool);
      this.#stop = stop;
      await first;
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#listeners.clear();
    await this.#stop?.().catch(() => {});
  }

  #listenPg(pool: pg.Pool): { stop: () => Promise<void>; first: Promise<void> } {
    let current: pg.Client | undefined;
    let timer: NodeJS.Timeout | undefined;
    let settle: () => void = () => {};
    const first = new Promise<void>((resolve) => {
      settle = resolve;
    });
    const connect = () => {
      if (this.#closed) return;
      const client = new pg.Client(pool.options);
      current = client;
      const retry = () => {
        client.removeAllListeners();
        client.on("error", () => {});
        void client.end().catch(() => {});
        if (!this.#closed) {
          timer = setTimeout(connect, RECONNECT_MS);
          timer.unref();
        }
      };
      client.on("notification", (message) => {
        if (message.channel === CHANNEL && message.payload) this.#receive(message.payload);
      });
      client.on("error", (err) => {
        this.#log.warn({ err }, "job signal connection failed; reconnecting");
        retry();
      });
      client
        .connect()
        .then(() => client.query(`LISTEN ${CHANNEL}`))
        // Whatever was published while the connection was down: waiters poll, dispatchers look again.
        .then(() => this.#emit({ t: "queued" }))
        .catch((err) => {
          if (this.#closed) return;
          this.#log.warn({ err }, "listening for job signals failed; retrying");
          retry();
        })
        .finally(() => settle());
    };
    connect();
    return {
      first,
      stop: async () => {
        clearTimeout(timer);
        await current?.end().catch(() => {});
      },
    };
  }

  #receive(payload: string): void {
    let parsed: z.infer<typeof Envelope>;
    try {
      parsed = Envelope.parse(JSON.parse(payload));
    } catch {
      return;
    }
    if (parsed.o !== this.#origin) this.#emit(parsed.s);
  }

  #emit(signal: JobSignal): void {
    for (const listener of this.#listeners) {
      try {
        listener(signal);
      } catch (err) {
        this.#log.error({ err }, "a job signal listener failed");
      }
    }
  }
}
