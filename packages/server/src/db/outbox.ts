import { randomUUID } from "node:crypto";
import { createReadStream, existsSync, readdirSync, statSync } from "node:fs";
import { mkdir, open, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { createInterface } from "node:readline";
import type { FastifyBaseLogger } from "fastify";
import { pgErrorCode } from "./errors.ts";
import { isDatabaseUnavailable } from "./unavailable.ts";

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

export class Outbox<T> {
  readonly #o: Required<OutboxOptions<T>>;
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
    this.#spilled = existsSync(options.file) || claimsIn(options.file).length > 0;
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
      .then(() => this.#append(text))
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

  async #append(text: string): Promise<void> {
    await mkdir(path.dirname(this.#o.file), { recursive: true, mode: 0o700 });
    for (;;) {
      // O_APPEND: every write lands at the end, whatever else writes to the file.
      const file = await open(this.#o.file, "a+", 0o600);
      let ino: number;
      try {
        const info = await file.stat();
        ino = info.ino;
        let prefix = "";
        if (info.size > 0) {
          // A crash mid-append leaves a torn last line; end it so it cannot swallow the next row.
          const last = Buffer.alloc(1);
          await file.read(last, 0, 1, info.size - 1);
          if (last[0] !== 0x0a) prefix = "\n";
        }
        await file.appendFile(prefix + text);
        await file.sync();
      } finally {
        await file.close();
      }
      // Claimed (renamed) by a reader while open: it may have read past our rows already; append again.
      if ((await inode(this.#o.file)) === ino) return;
    }
  }

  /**
   * Claims the spill file (rename to a name of its own) or a claim left by a run that stopped, and writes
   * its rows; the claimed file goes only once all are written, so a crash in between reads it again.
   */
  async #replay(): Promise<void> {
    let claimed = claimsIn(this.#o.file)[0];
    if (!claimed) {
      await this.#spillChain;
      const appends = this.#appends;
      claimed = `${this.#o.file}.${randomUUID()}${CLAIM_SUFFIX}`;
      try {
        await rename(this.#o.file, claimed);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
        if (this.#appends === appends && this.#appending === 0) this.#spilled = false;
        return;
      }
    }
    let torn = 0;
    let batch: T[] = [];
    const lines = createInterface({ input: createReadStream(claimed), crlfDelay: Number.POSITIVE_INFINITY });
    try {
      for await (const line of lines) {
        if (line.trim() === "") continue;
        const item = parseLine(line, this.#o.parse);
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
    } finally {
      lines.close();
    }
    if (batch.length > 0) await this.#deliver(batch);
    if (torn > 0)
      this.#o.log.warn({ file: claimed, lines: torn }, `${this.#o.what}: unreadable lines skipped`);
    await rm(claimed, { force: true });
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

function parseLine<T>(line: string, parse: (value: unknown) => T | undefined): T | undefined {
  try {
    return parse(JSON.parse(line));
  } catch {
    return undefined;
  }
}

const CLAIM_SUFFIX = ".replay";

/** Claimed spill files (`<file>.<uuid>.replay`) still to be written, oldest first. */
function claimsIn(file: string): string[] {
  const dir = path.dirname(file);
  const prefix = `${path.basename(file)}.`;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
  return names
    .filter((n) => n.startsWith(prefix) && n.endsWith(CLAIM_SUFFIX))
    .map((n) => path.join(dir, n))
    .map((f) => ({ f, mtime: statSync(f, { throwIfNoEntry: false })?.mtimeMs ?? 0 }))
    .sort((a, b) => a.mtime - b.mtime)
    .map((c) => c.f);
}

async function inode(file: string): Promise<number | undefined> {
  try {
    return (await stat(file)).ino;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

/**
 * The driver's error, for logs: class, SQLSTATE or errno code, message. Never the ORM's wrapper, whose
 * message carries the SQL parameters; and for a data or constraint error (classes 22, 23), whose message
 * quotes the value, the table, column and constraint instead.
 */
export function driverError(err: unknown): {
  class: string;
  code?: string;
  message?: string;
  table?: string;
  column?: string;
  constraint?: string;
} {
  let e: unknown = err;
  for (let depth = 0; depth < 8; depth++) {
    const cause = (e as { cause?: unknown } | undefined)?.cause;
    if (!(cause instanceof Error)) break;
    e = cause;
  }
  if (!(e instanceof Error)) return { class: typeof e };
  const { code, table, column, constraint } = e as {
    code?: unknown;
    table?: unknown;
    column?: unknown;
    constraint?: unknown;
  };
  const text = (value: unknown) => (typeof value === "string" ? value : undefined);
  const sqlstate = text(code);
  const quotesValues = sqlstate !== undefined && REFUSED.test(sqlstate);
  return JSON.parse(
    JSON.stringify({
      class: e.constructor.name,
      code: sqlstate,
      // A wrapper without a cause (rare) still must not leak its parameters.
      message: quotesValues ? undefined : e.message.split("\nparams:")[0]!.slice(0, 500),
      table: text(table),
      column: text(column),
      constraint: text(constraint),
    }),
  );
}
