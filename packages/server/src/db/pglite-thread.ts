import { parentPort, workerData } from "node:worker_threads";
import { PGlite, type Transaction } from "@electric-sql/pglite";
import { type PgliteReply, type PgliteRequest, type PgliteThreadInit, toWire } from "./pglite-wire.ts";

/**
 * The embedded database in a thread of its own (ADR 0022): PGlite's WASM and its protocol parsing were
 * half of the server's CPU per chat turn, on the same thread as every request. Here they run beside it.
 * Requests are handled in order of arrival; PGlite itself runs one query at a time, and a transaction
 * holds it until its `commit` or `rollback`, as in one process.
 */

const port = parentPort!;
const init = workerData as PgliteThreadInit;
const send = (message: PgliteReply, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

type Query = Extract<PgliteRequest, { op: "query" }>;

const identity = (value: unknown) => value;
const parserSets = new Map<string, Record<number, (value: string) => unknown>>();
function parsersFor(raw: number[]): Record<number, (value: string) => unknown> {
  const key = raw.join(",");
  let parsers = parserSets.get(key);
  if (!parsers) {
    parsers = Object.fromEntries(raw.map((oid) => [oid, identity]));
    parserSets.set(key, parsers);
  }
  return parsers;
}

function run(on: PGlite | Transaction, q: Query) {
  return on.query(q.sql, q.params, { rowMode: q.rowMode, parsers: parsersFor(q.raw) });
}

/**
 * An open transaction: the requests for it wait here until its callback takes them. If it cannot begin,
 * what waits and what comes later fails with the same error.
 */
class OpenTransaction {
  readonly #queue: PgliteRequest[] = [];
  #waiting: ((request: PgliteRequest) => void) | undefined;
  #failed: unknown;
  #isFailed = false;

  push(request: PgliteRequest): void {
    if (this.#isFailed) {
      fail(request.id, this.#failed);
      return;
    }
    const waiting = this.#waiting;
    this.#waiting = undefined;
    if (waiting) waiting(request);
    else this.#queue.push(request);
  }

  next(): Promise<PgliteRequest> {
    const queued = this.#queue.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve) => {
      this.#waiting = resolve;
    });
  }

  /** It never began: everything queued for it fails now, anything sent later fails on arrival. */
  failAll(error: unknown): void {
    this.#isFailed = true;
    this.#failed = error;
    for (const request of this.#queue.splice(0)) fail(request.id, error);
  }
}

const transactions = new Map<number, OpenTransaction>();
const unlisten = new Map<string, () => Promise<void>>();

function answer(id: number, value: unknown): void {
  send({ kind: "answer", id, value });
}
function fail(id: number, error: unknown): void {
  send({ kind: "error", id, error: toWire(error) });
}

function begin(pg: PGlite, id: number, txId: number): void {
  if (transactions.has(txId)) {
    fail(id, new Error(`transaction ${txId} is already open`));
    return;
  }
  const open = new OpenTransaction();
  transactions.set(txId, open);
  let began = false;
  let end: number | undefined;
  pg.transaction(async (tx) => {
    began = true;
    answer(id, txId);
    for (;;) {
      const request = await open.next();
      if (request.op === "query") {
        await run(tx, request).then(
          (result) => answer(request.id, result),
          (error: unknown) => fail(request.id, error),
        );
        continue;
      }
      end = request.id;
      if (request.op === "rollback") await tx.rollback();
      return;
    }
  })
    .then(
      () => end !== undefined && answer(end, null),
      (error: unknown) => {
        if (!began) {
          fail(id, error);
          open.failAll(error);
        } else fail(end ?? id, error);
      },
    )
    .finally(() => transactions.delete(txId));
}

async function handle(pg: PGlite, request: PgliteRequest): Promise<void> {
  switch (request.op) {
    case "query":
      if (request.tx !== undefined) {
        const open = transactions.get(request.tx);
        if (open) open.push(request);
        else fail(request.id, new Error(`no open transaction ${request.tx}`));
        return;
      }
      return run(pg, request).then(
        (result) => answer(request.id, result),
        (error: unknown) => fail(request.id, error),
      );
    case "begin":
      return begin(pg, request.id, request.tx);
    case "commit":
    case "rollback": {
      const open = transactions.get(request.tx);
      if (open) open.push(request);
      else fail(request.id, new Error(`no open transaction ${request.tx}`));
      return;
    }
    case "listen": {
      if (!unlisten.has(request.channel)) {
        const channel = request.channel;
        unlisten.set(
          channel,
          await pg.listen(channel, (payload) => send({ kind: "notify", channel, payload })),
        );
      }
      return answer(request.id, null);
    }
    case "unlisten":
      await unlisten.get(request.channel)?.();
      unlisten.delete(request.channel);
      return answer(request.id, null);
    case "dump": {
      const bytes = await (await pg.dumpDataDir("none")).arrayBuffer();
      return send({ kind: "answer", id: request.id, value: bytes }, [bytes]);
    }
    case "close":
      await pg.close();
      answer(request.id, null);
      process.exit(0); // in a worker: ends this thread
      return;
  }
}

try {
  const pg = await PGlite.create({
    ...(init.dump ? { loadDataDir: new Blob([init.dump]) } : { dataDir: init.dataDir ?? "memory://" }),
    startParams: init.startParams,
  });
  port.on("message", (request: PgliteRequest) => {
    handle(pg, request).catch((error: unknown) => fail(request.id, error));
  });
  send({ kind: "ready" });
} catch (error) {
  send({ kind: "failed", error: toWire(error) });
}
