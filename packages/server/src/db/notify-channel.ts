import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import type { FastifyBaseLogger } from "fastify";
import pg from "pg";
import { z } from "zod";
import type { Database } from "./client.ts";

const RECONNECT_MS = 1000;

export interface NotifyChannelOptions<T> {
  /** The PostgreSQL channel name (an identifier: letters, digits, `_`). */
  channel: string;
  /** Every message is checked against it on arrival; anything else is dropped. */
  schema: z.ZodType<T>;
  /** After (re)connecting: whatever was published while the connection was down is lost, so look again. */
  onListening?: () => void;
}

/**
 * Messages between the replicas of one Kiln that share a database: delivered in this process at once, in
 * the others through PostgreSQL LISTEN/NOTIFY (on both drivers: PGlite delivers NOTIFY to its own
 * listeners, node-postgres gets a dedicated connection outside the pool that reconnects by itself). A lost
 * message costs latency, never correctness: receivers must also look at the database now and then.
 */
export class NotifyChannel<T> {
  readonly #database: Database;
  readonly #log: FastifyBaseLogger;
  readonly #o: NotifyChannelOptions<T>;
  readonly #origin = randomUUID();
  readonly #listeners = new Set<(message: T) => void>();
  readonly #envelope: z.ZodType<{ o: string; s: T }>;
  #stop: (() => Promise<void>) | undefined;
  #closed = false;

  constructor(database: Database, log: FastifyBaseLogger, options: NotifyChannelOptions<T>) {
    if (!/^[a-z_][a-z0-9_]*$/.test(options.channel)) throw new Error(`bad channel name ${options.channel}`);
    this.#database = database;
    this.#log = log;
    this.#o = options;
    this.#envelope = z.object({ o: z.string(), s: options.schema }) as z.ZodType<{ o: string; s: T }>;
  }

  on(listener: (message: T) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  publish(message: T): void {
    this.#emit(message);
    const payload = JSON.stringify({ o: this.#origin, s: message });
    this.#database.db.execute(sql`SELECT pg_notify(${this.#o.channel}, ${payload})`).catch((err) => {
      if (!this.#closed) this.#log.warn({ err, channel: this.#o.channel }, "publishing a signal failed");
    });
  }

  /** Starts listening; resolves once the first LISTEN is in place (or failed, to be retried meanwhile). */
  async start(): Promise<void> {
    const client = (this.#database.db as unknown as { $client: unknown }).$client;
    if (this.#database.kind === "pglite") {
      const unlisten = await (client as Listening).listen(this.#o.channel, (payload) =>
        this.#receive(payload),
      );
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
    const channel = this.#o.channel;
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
        if (message.channel === channel && message.payload) this.#receive(message.payload);
      });
      client.on("error", (err) => {
        this.#log.warn({ err, channel }, "signal connection failed; reconnecting");
        retry();
      });
      client
        .connect()
        .then(() => client.query(`LISTEN ${channel}`))
        .then(() => this.#o.onListening?.())
        .catch((err) => {
          if (this.#closed) return;
          this.#log.warn({ err, channel }, "listening for signals failed; retrying");
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
    let parsed: { o: string; s: T };
    try {
      parsed = this.#envelope.parse(JSON.parse(payload));
    } catch {
      return;
    }
    if (parsed.o !== this.#origin) this.#emit(parsed.s);
  }

  /** Delivers to this process's listeners only. */
  protected publishLocally(message: T): void {
    this.#emit(message);
  }

  #emit(message: T): void {
    for (const listener of this.#listeners) {
      try {
        listener(message);
      } catch (err) {
        this.#log.error({ err, channel: this.#o.channel }, "a signal listener failed");
      }
    }
  }
}

/** The embedded database's client, in or out of its thread: both deliver NOTIFY to `listen`. */
interface Listening {
  listen(channel: string, callback: (payload: string) => void): Promise<() => Promise<void>>;
}
