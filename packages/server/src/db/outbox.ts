import type { FastifyBaseLogger } from "fastify";
import { driverError } from "./driver-error.ts";
import { pgErrorCode } from "./errors.ts";
import { SpillFile } from "./spill-file.ts";
import { isDatabaseUnavailable } from "./unavailable.ts";

export interface OutboxOptions<T> {
  /** What the rows are, for logs: "LLM call rows". */
  what: string;
  /** The spill file; its directory is made 0700, the file 0600. */
  file: string;
  /** Writes rows of one group; idempotent. A failure is classified with `pgErrorCode`. */
  write(group: string, items: T[]): Promise<void>;
  groupOf(item: T): string;
  /** One spilled line, JSON-parsed, back into a row; undefined when it is none. */
  parse(value: unknown): T | undefined;
  log: FastifyBaseLogger;
  /** Rows held in memory; more spill to the file. */
  capacity?: number;
  batchSize?: number;
  retry?: { firstMs: number; maxMs: number };
}

/** The org's schema is gone (org deleted): its rows have nowhere to go. */
const GONE = new Set(["3F000", "42P01"]);
/** Class 22 data exception, class 23 integrity constraint violation: this row will never be accepted. */
const REFUSED = /^2[23]/;

class Stopped extends Error {}

/**
 * A durable queue in front of inserts that count money or quota (LLM call rows): `push` returns at once,
 * one drainer writes rows in order, in batches per group (tenant schema), and waits out a database outage
 * with backoff. Rows beyond `capacity` go to an append-only JSON-lines file, read back once the queue is
 * empty; at `close` whatever is still queued goes there too, so the next start writes it.
 *
 * Delivery is at least once — a row whose commit was ambiguous (the connection died after COMMIT) is
 * written again, so `write` must be idempotent (`ON CONFLICT (id) DO NOTHING`).
 *
 * Kilns that share a data dir (replicas) share the file: appends are O_APPEND, a reader claims the file by
 * renaming it to a name of its own, and a writer whose file was claimed mid-append appends again (a row
 * read twice is written once).
 */
export class Outbox<T> {
  readonly #o: Required<OutboxOptions<T>>;
  readonly #file: SpillFile;
  #queue: T[] = [];
  #running: Promise<void> | undefined;
  #stopped = false;
  /** The spill file may hold rows (or a claimed one is half written). */
  #spilled: boolean;
  /** Rows handed to the spill chain, not yet in the file. */
  #appending = 0;
  /** Appends completed; a replay that finds no file trusts that only while this stays unchanged. */
  #appends = 0;
  #spillChain: Promise<void> = Promise.resolve();
  #wake: (() => void) | undefined;
  #outage: { since: number } | undefined;

  constructor(options: OutboxOptions<T>) {
    this.#o = { capacity: 5_000, batchSize: 200, retry: { firstMs: 250, maxMs: 5_000 }, ...options };
    // Rows a previous run left in the file are written first (and rows pushed meanwhile follow them).
    this.#file = new SpillFile(options.file);
    this.#spilled = this.#file.hasRows();
    this.#kick();
  }

  push(item: T): void {
    // While rows wait in the file, new ones follow them there: the file is read back in order.
    if (this.#stopped || this.#spilled || this.#appending > 0 || this.#queue.length >= this.#o.capacity) {
      this.#spill([item]);
      return;
    }
    this.#queue.push(item);
    this.#kick();
  }

  /** Resolves once every row pushed so far is written (or dropped as refused); waits out an outage. */
  async flush(): Promise<void> {
    for (;;) {
      await this.#spillChain;
      if (this.#stopped) return;
      if (this.#running) await this.#running;
      else if (this.#queue.length > 0 || this.#spilled || this.#appending > 0) this.#kick();
      else return;
    }
  }

  /** Drains for at most `timeoutMs`, then spills what is left; later pushes go straight to the file. */
  async close(timeoutMs = 3_000): Promise<void> {
    if (this.#stopped) return;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      this.flush().then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    this.#stopped = true;
    this.#wake?.();
    const left = this.#queue;
    this.#queue = [];
    if (left.length > 0) this.#spill(left);
    await this.#spillChain;
    if (timedOut) {
      this.#o.log.warn({ file: this.#o.file, rows: left.length }, `${this.#o.what} left for the next start`);
    }
  }

  #kick(): void {
    if (this.#running || this.#stopped) return;
    this.#running = this.#run().finally(() => {
      this.#running = undefined;
      // Rows pushed after the loop saw an empty queue, but before it let go of `#running`.
      if (this.#queue.length > 0 || this.#spilled) this.#kick();
    });
  }

  async #run(): Promise<void> {
    let failures = 0;
    while (!this.#stopped) {
      try {
        if (this.#queue.length > 0) {
          const batch = this.#queue.slice(0, this.#o.batchSize);
          await this.#deliver(batch);
          if (this.#stopped) return;
          this.#queue.splice(0, batch.length);
        } else if (this.#spilled) {
          await this.#replay();
        } else {
          return;
        }
        failures = 0;
      } catch (err) {
        if (err instanceof Stopped || this.#stopped) return;
        // The file, not the database (disk full, permissions): keep the rows, try again later.
        this.#o.log.error({ error: driverError(err), file: this.#o.file }, `${this.#o.what}: outbox failed`);
        await this.#sleep(backoff(this.#o.retry, failures++));
      }
    }
  }

  /** Writes `items` group by group, in order; returns once each is written or dropped. */
  async #deliver(items: T[]): Promise<void> {
    const groups = new Map<string, T[]>();
    for (const item of items) {
      const key = this.#o.groupOf(item);
      const group = groups.get(key);
      if (group) group.push(item);
      else groups.set(key, [item]);
    }
    for (const [group, rows] of groups) await this.#deliverGroup(group, rows);
  }

  async #deliverGroup(group: string, items: T[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      if (this.#stopped) throw new Stopped();
      try {
        await this.#o.write(group, items);
        this.#recovered();
        return;
      } catch (err) {
        const code = pgErrorCode(err);
        if (code && GONE.has(code)) {
          this.#o.log.warn({ group, rows: items.length, error: driverError(err) }, `${this.#o.what} dropped`);
          return;
        }
        if (code && REFUSED.test(code)) {
          // One row of the batch is refused; find it so the others still count.
          if (items.length > 1) {
            for (const item of items) await this.#deliverGroup(group, [item]);
            return;
          }
          this.#o.log.warn({ group, rows: 1, error: driverError(err) }, `${this.#o.what} dropped`);
          return;
        }
        this.#failed(err);
        await this.#sleep(backoff(this.#o.retry, attempt));
      }
    }
  }

  /** Logs an outage once, not once per row or retry. */
  #failed(err: unknown): void {
    if (this.#outage) return;
    this.#outage = { since: Date.now() };
    const waiting = { memory: this.#queue.length, spilled: this.#spilled };
    const reason = isDatabaseUnavailable(err) ? "database unavailable" : "could not write";
    this.#o.log.warn(
      { error: driverError(err), ...waiting },
      `${reason}; ${this.#queue.length} ${this.#o.what} waiting${this.#spilled ? " (more in the outbox file)" : ""}`,
    );
  }

  #recovered(): void {
    if (!this.#outage) return;
    const outageMs = Date.now() - this.#outage.since;
    this.#outage = undefined;
    this.#o.log.info({ outageMs, waiting: this.#queue.length }, `${this.#o.what} written after outage`);
  }

  #spill(items: T[]): void {
    const n = items.length;
    this.#appending += n;
    const text = items.map((item) => `${JSON.stringify(item)}\n`).join("");
    this.#spillChain = this.#spillChain
      .then(() => this.#file.append(text))
      .then(
        () => {
          this.#spilled = true;
          this.#appends++;
        },
        (err: unknown) => {
          this.#o.log.error({ err, file: this.#o.file, rows: n }, `could not spill ${this.#o.what}; lost`);
        },
      )
      .finally(() => {
        this.#appending -= n;
        this.#kick();
      });
  }

  /**
   * Writes the rows of a claimed spill file; the claim goes only once all are written, so a crash in
   * between reads it again (and `write` ignores rows already there).
   */
  async #replay(): Promise<void> {
    await this.#spillChain;
    const appends = this.#appends;
    const claimed = await this.#file.claim();
    if (!claimed) {
      // Nothing to read, unless an append landed meanwhile.
      if (this.#appends === appends && this.#appending === 0) this.#spilled = false;
      return;
    }
    let torn = 0;
    let batch: T[] = [];
    try {
      for await (const item of this.#file.read(claimed, this.#o.parse)) {
        if (item === undefined) {
          torn++;
          continue;
        }
        batch.push(item);
        if (batch.length >= this.#o.batchSize) {
          await this.#deliver(batch);
          batch = [];
        }
      }
    } catch (err) {
      // Another Kiln on this data dir wrote and removed the same claim first.
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
      throw err;
    }
    if (batch.length > 0) await this.#deliver(batch);
    if (torn > 0)
      this.#o.log.warn({ file: claimed, lines: torn }, `${this.#o.what}: unreadable lines skipped`);
    await this.#file.remove(claimed);
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      timer.unref();
      const self = this;
      function done() {
        clearTimeout(timer);
        if (self.#wake === done) self.#wake = undefined;
        resolve();
      }
      this.#wake = done;
    });
  }
}

function backoff(retry: { firstMs: number; maxMs: number }, attempt: number): number {
  return Math.min(retry.maxMs, retry.firstMs * 2 ** Math.min(attempt, 20));
}
