import { Worker } from "node:worker_threads";
import type { PgliteReply, PgliteRequest, PgliteThreadInit, RowMode, WireError } from "./pglite-wire.ts";

/**
 * The server's side of the embedded database's thread (pglite-thread.ts, ADR 0022): the part of PGlite's
 * interface Kiln uses (Drizzle's `query` and `transaction`, `listen`, `dumpDataDir`, `close`), each call a
 * message to the thread.
 */

/** The options Drizzle passes to `query`: a row mode, and parsers that leave some types as text. */
interface QueryOptions {
  rowMode?: RowMode;
  parsers?: Record<number, (value: string) => unknown>;
}

interface Results {
  rows: unknown[];
  affectedRows?: number;
  fields: { name: string; dataTypeID: number }[];
}

/** What Drizzle's PGlite session calls on a client or a transaction. */
export interface PgliteQueryable {
  query(sql: string, params?: unknown[], options?: QueryOptions): Promise<Results>;
}

export interface PgliteTransactionClient extends PgliteQueryable {
  rollback(): Promise<void>;
  readonly closed: boolean;
}

/** A database error from the thread, with the driver's fields (`code`, `table`, `constraint`…). */
export class DatabaseError extends Error {}

function fromWire(wire: WireError): Error {
  // PGlite's own class name is minified away; a SQLSTATE is what makes one.
  const error =
    typeof wire.fields.code === "string" ? new DatabaseError(wire.message) : new Error(wire.message);
  Object.assign(error, wire.fields);
  return error;
}

/** Drizzle's parsers only keep dates as text; anything else could not cross a thread. */
const rawTypes = new WeakMap<object, number[]>();
function rawTypesOf(options: QueryOptions | undefined): number[] {
  const parsers = options?.parsers;
  if (!parsers) return [];
  let raw = rawTypes.get(parsers);
  if (!raw) {
    raw = Object.keys(parsers).map(Number);
    for (const oid of raw) {
      if (parsers[oid]!("2000-01-01 00:00:00") !== "2000-01-01 00:00:00")
        throw new Error(`a parser for type ${oid} that changes values cannot run in the database thread`);
    }
    rawTypes.set(parsers, raw);
  }
  return raw;
}

const CLOSED = "PGlite is closed";

export class PgliteThread implements PgliteQueryable {
  readonly #worker: Worker;
  readonly #pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  readonly #listeners = new Map<string, Set<(payload: string) => void>>();
  #nextId = 1;
  #nextTx = 1;
  #closed = false;
  #closing = false;

  private constructor(worker: Worker) {
    this.#worker = worker;
    worker.on("message", (reply: PgliteReply) => this.#receive(reply));
    worker.on("error", (error) => this.#stopped(error));
    worker.on("exit", () => this.#stopped());
    worker.unref(); // held only while a call waits (#call)
  }

  /** Starts the thread and opens the database in it. */
  static async open(init: PgliteThreadInit): Promise<PgliteThread> {
    const worker = new Worker(new URL("./pglite-thread.ts", import.meta.url), {
      workerData: init,
      transferList: init.dump ? [init.dump] : [],
      // Its garbage is short-lived query results: a small young generation keeps the thread's heap small.
      resourceLimits: { maxYoungGenerationSizeMb: 4 },
    });
    // Only its own listeners are removed after: Worker keeps internal ones.
    let onMessage: ((reply: PgliteReply) => void) | undefined;
    let onError: ((error: Error) => void) | undefined;
    let onExit: ((code: number) => void) | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        onMessage = (reply) => {
          if (reply.kind === "ready") resolve();
          else if (reply.kind === "failed") reject(fromWire(reply.error));
        };
        onError = reject;
        onExit = (code) => reject(new Error(`the database thread ended while opening (exit ${code})`));
        worker.on("message", onMessage).on("error", onError).on("exit", onExit);
      });
    } catch (error) {
      await worker.terminate();
      throw error;
    } finally {
      worker.off("message", onMessage!).off("error", onError!).off("exit", onExit!);
    }
    return new PgliteThread(worker);
  }

  get closed(): boolean {
    return this.#closed;
  }

  query(sql: string, params: unknown[] = [], options?: QueryOptions): Promise<Results> {
    return this.#query(undefined, sql, params, options);
  }

  /**
   * The statement the next transaction begins with: taken by the next `transaction` call, which must come
   * synchronously after (as Drizzle's does). Sent right behind its begin without waiting for either answer
   * (a tenant transaction's `SET LOCAL search_path`: one round trip less). `taken` says whether it was.
   */
  prelude: { sql: string; taken: boolean } | undefined;

  async transaction<T>(fn: (tx: PgliteTransactionClient) => Promise<T>): Promise<T> {
    // Not waited for: its queries follow at once (the thread takes requests in order), one hop less per
    // transaction. A begin that fails fails them too, and is the error this call throws.
    const txId = this.#nextTx++;
    const began = this.#call({ op: "begin", tx: txId });
    began.catch(() => {});
    const prelude = this.prelude;
    this.prelude = undefined;
    let first: Promise<unknown> = began;
    if (prelude) {
      prelude.taken = true;
      first = this.#query(txId, prelude.sql, [], undefined).then(() => began);
      first.catch(() => {});
    }
    let ended = false;
    const end = async (op: "commit" | "rollback") => {
      if (ended) return;
      ended = true;
      await this.#call({ op, tx: txId });
    };
    const tx: PgliteTransactionClient = {
      query: (sql, params = [], options) => {
        if (ended) return Promise.reject(new Error("the transaction has ended"));
        return this.#query(txId, sql, params, options);
      },
      rollback: () => end("rollback"),
      get closed() {
        return ended;
      },
    };
    let result: T;
    try {
      result = await fn(tx);
    } catch (error) {
      // Never begun, or its first statement failed: that error explains what the callback saw.
      await first.catch(async (cause: unknown) => {
        await end("rollback").catch(() => {});
        throw cause;
      });
      await end("rollback").catch(() => {});
      throw error;
    }
    await first.catch(async (cause: unknown) => {
      await end("rollback").catch(() => {});
      throw cause;
    });
    await end("commit");
    return result;
  }

  /** Calls `callback` with every NOTIFY on `channel`; resolves to the function that stops it. */
  async listen(channel: string, callback: (payload: string) => void): Promise<() => Promise<void>> {
    let set = this.#listeners.get(channel);
    if (!set) {
      set = new Set();
      this.#listeners.set(channel, set);
      await this.#call({ op: "listen", channel });
    }
    set.add(callback);
    return async () => {
      const current = this.#listeners.get(channel);
      if (!current?.delete(callback) || current.size > 0) return;
      this.#listeners.delete(channel);
      if (!this.#closed) await this.#call({ op: "unlisten", channel });
    };
  }

  async dumpDataDir(): Promise<Blob> {
    return new Blob([(await this.#call({ op: "dump" })) as ArrayBuffer]);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    const exited = new Promise((resolve) => this.#worker.once("exit", resolve));
    this.#closing = true; // the thread stays referenced until it has ended
    await this.#call({ op: "close" });
    this.#closed = true;
    await exited;
  }

  /** Ends the thread at once, as a crash would: what waits fails as on a closed database. */
  async terminate(): Promise<void> {
    await this.#worker.terminate();
  }

  #query(tx: number | undefined, sql: string, params: unknown[], options: QueryOptions | undefined) {
    const rowMode = options?.rowMode ?? "object";
    const request = { op: "query" as const, sql, params, rowMode, raw: rawTypesOf(options) };
    return this.#call(tx === undefined ? request : { ...request, tx }) as Promise<Results>;
  }

  #call(request: DistributiveOmit<PgliteRequest, "id">): Promise<unknown> {
    if (this.#closed) return Promise.reject(new Error(CLOSED));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      try {
        // A parameter that cannot be copied (a function, a symbol) throws here, before anything waits.
        this.#worker.postMessage({ ...request, id });
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
        return;
      }
      if (this.#pending.size === 0) this.#worker.ref();
      this.#pending.set(id, { resolve, reject });
    });
  }

  #receive(reply: PgliteReply): void {
    if (reply.kind === "notify") {
      for (const listener of this.#listeners.get(reply.channel) ?? []) listener(reply.payload);
      return;
    }
    if (reply.kind !== "answer" && reply.kind !== "error") return;
    const waiting = this.#pending.get(reply.id);
    if (!waiting) return;
    this.#pending.delete(reply.id);
    if (this.#pending.size === 0 && !this.#closing) this.#worker.unref();
    if (reply.kind === "answer") waiting.resolve(reply.value);
    else waiting.reject(fromWire(reply.error));
  }

  /** The thread ended (closed, or crashed): whatever still waits fails as a closed database does. */
  #stopped(cause?: unknown): void {
    this.#closed = true;
    for (const { reject } of this.#pending.values()) reject(new Error(CLOSED, { cause }));
    this.#pending.clear();
    this.#listeners.clear();
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
