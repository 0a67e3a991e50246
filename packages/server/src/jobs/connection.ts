import { randomUUID } from "node:crypto";
import {
  type ErrorCode,
  WORKER_CLOSE,
  WORKER_MAX_MESSAGE_BYTES,
  WorkerClientMessage,
  type WorkerJobEvent,
  type WorkerServerMessage,
} from "@kiln/protocol";
import type { FastifyBaseLogger } from "fastify";
import type { RawData, WebSocket } from "ws";
import { driverError } from "../db/driver-error.ts";
import { DatabaseUnavailableError, isDatabaseUnavailable } from "../db/unavailable.ts";
import { KilnError } from "../errors/errors.ts";
import type { RegisteredWorker, WorkerHub } from "./hub.ts";
import type { WorkerCredential } from "./worker-tokens.ts";

/** Messages waiting beyond this mean the worker sends faster than the database takes them. */
const MAX_PENDING = 500;
/** How long one message is retried while the database is away before the worker is told so. */
const DATABASE_PATIENCE_MS = 60_000;
/** A worker that keeps sending nonsense is broken; after this many it is cut off. */
const MAX_INVALID = 50;
/** Step reports of one job that arrive together are stored in one transaction. */
const MAX_BATCH = 200;
/**
 * WebSocket pings find half-open connections (a worker whose machine vanished without a FIN), which would
 * otherwise keep being handed jobs until their leases ran out. Every WebSocket client answers pings itself.
 */
const PING_MS = 15_000;

type Ref = { type: string; jobId?: string };

/**
 * One worker's WebSocket: parses each message against the protocol, answers garbage with an `error`
 * message (the connection stays usable), and handles messages strictly in order, one at a time, so a
 * worker's `complete` can never overtake its own last step reports.
 */
export class WorkerConnection {
  readonly conn = randomUUID();
  readonly #socket: WebSocket;
  readonly #credential: WorkerCredential;
  readonly #hub: WorkerHub;
  readonly #log: FastifyBaseLogger;
  readonly #pending: WorkerClientMessage[] = [];
  #outage = false;
  #draining = false;
  #invalid = 0;
  #session: RegisteredWorker | undefined;
  #closed = false;
  #finished = false;
  #settle!: () => void;
  /** Resolves once the socket closed and what it left to write (its last messages, the disconnect) is written. */
  readonly settled = new Promise<void>((resolve) => {
    this.#settle = resolve;
  });

  constructor(socket: WebSocket, credential: WorkerCredential, hub: WorkerHub, log: FastifyBaseLogger) {
    this.#socket = socket;
    this.#credential = credential;
    this.#hub = hub;
    this.#log = log;
    let alive = true;
    const ping = setInterval(() => {
      if (!alive) return socket.terminate();
      alive = false;
      socket.ping();
    }, PING_MS);
    ping.unref();
    socket.on("pong", () => {
      alive = true;
    });
    socket.on("message", (data, isBinary) => this.#receive(data, isBinary));
    socket.on("close", () => {
      clearInterval(ping);
      void this.#onClose();
    });
    socket.on("error", (err) => log.debug({ err }, "worker socket error"));
  }

  send(message: WorkerServerMessage): void {
    if (this.#socket.readyState === this.#socket.OPEN) this.#socket.send(JSON.stringify(message));
  }

  close(code: number, reason: string): void {
    if (
      this.#socket.readyState === this.#socket.OPEN ||
      this.#socket.readyState === this.#socket.CONNECTING
    ) {
      this.#socket.close(code, reason);
    }
  }

  #receive(data: RawData, isBinary: boolean): void {
    const message = this.#parse(data, isBinary);
    if (!message || this.#closed) return;
    if (this.#pending.length >= MAX_PENDING) {
      this.close(WORKER_CLOSE.tooFast, "too many messages waiting");
      return;
    }
    this.#pending.push(message);
    void this.#drain();
  }

  #parse(data: RawData, isBinary: boolean): WorkerClientMessage | undefined {
    if (isBinary) {
      this.#invalidMessage("bad_request", "send JSON text messages");
      return undefined;
    }
    const text = String(data);
    if (Buffer.byteLength(text) > WORKER_MAX_MESSAGE_BYTES) {
      this.close(1009, "message too big");
      return undefined;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      this.#invalidMessage("invalid_json", "not JSON");
      return undefined;
    }
    const parsed = WorkerClientMessage.safeParse(json);
    if (parsed.success) return parsed.data;
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? ` at ${issue.path.join(".")}` : "";
    this.#invalidMessage(
      "validation_failed",
      `not a valid worker message${where}: ${issue?.message}`,
      refOf(json),
    );
    return undefined;
  }

  #invalidMessage(code: ErrorCode, message: string, ref?: Ref): void {
    this.send({ type: "error", code, message, ...(ref ? { ref } : {}) });
    if (++this.#invalid > MAX_INVALID) this.close(WORKER_CLOSE.invalidMessages, "too many invalid messages");
  }

  async #drain(): Promise<void> {
    if (this.#draining) return;
    this.#draining = true;
    try {
      // Messages that arrived before a close are still handled: a worker may send `complete` and leave.
      while (this.#pending.length > 0) {
        const message = this.#pending.shift()!;
        // A newer heartbeat waiting says all this one would (the queue backs up while the database is away).
        if (message.type === "heartbeat" && this.#pending.some((m) => m.type === "heartbeat")) continue;
        try {
          if (message.type === "job-event") await this.#recordBatch(message);
          else await this.#patiently(() => this.#handle(message));
        } catch (err) {
          this.#failed(err, { type: message.type, ...("jobId" in message ? { jobId: message.jobId } : {}) });
        }
      }
    } finally {
      this.#draining = false;
      if (this.#closed) await this.#finish();
    }
  }

  async #handle(m: Exclude<WorkerClientMessage, { type: "job-event" }>): Promise<void> {
    if (m.type === "register") {
      if (this.#session) {
        throw new KilnError("bad_request", "this connection is registered already");
      }
      this.#session = await this.#hub.register(this, this.#credential, m);
      return;
    }
    const session = this.#need();
    switch (m.type) {
      case "heartbeat":
        return this.#hub.heartbeat(session, m.jobIds);
      case "claim":
        return this.#hub.claim();
      case "complete":
        return this.#hub.complete(session, m.jobId, m.attempt, m.result);
      case "fail":
        return this.#hub.fail(session, m.jobId, m.attempt, m.code, m.message);
      case "cancel-ack":
        return this.#hub.cancelAck(session, m.jobId, m.attempt);
    }
  }

  /** Takes the following step reports of the same attempt along, so a burst is one write. */
  async #recordBatch(first: Extract<WorkerClientMessage, { type: "job-event" }>): Promise<void> {
    const session = this.#need();
    const events: WorkerJobEvent[] = [first.event];
    while (events.length < MAX_BATCH) {
      const next = this.#pending[0];
      if (next?.type !== "job-event" || next.jobId !== first.jobId || next.attempt !== first.attempt) break;
      this.#pending.shift();
      events.push(next.event);
    }
    await this.#patiently(() => this.#hub.record(session, first.jobId, first.attempt, events));
  }

  /**
   * Runs `work` again while the database is away (a restart, a fail-over), in order: what the worker
   * reported is kept, not refused. Messages arriving meanwhile wait behind it; past MAX_PENDING the
   * connection closes as `tooFast` and the worker keeps its reports offline until it reconnects.
   */
  async #patiently(work: () => Promise<void>): Promise<void> {
    const until = Date.now() + DATABASE_PATIENCE_MS;
    let wait = 250;
    for (;;) {
      try {
        await work();
        if (this.#outage) {
          this.#outage = false;
          this.#log.info("database back; the worker's waiting messages are stored");
        }
        return;
      } catch (err) {
        if (!isDatabaseUnavailable(err) || Date.now() + wait > until) throw err;
        if (!this.#outage) {
          this.#outage = true;
          this.#log.warn({ error: driverError(err) }, "database unavailable; the worker's messages wait");
        }
        await new Promise((resolve) => setTimeout(resolve, wait));
        wait = Math.min(wait * 2, 2000);
      }
    }
  }

  #need(): RegisteredWorker {
    if (!this.#session) {
      throw new KilnError("worker_not_registered", "send register first");
    }
    return this.#session;
  }

  #failed(err: unknown, ref: Ref): void {
    if (isDatabaseUnavailable(err)) {
      const unavailable = new DatabaseUnavailableError(err);
      this.send({ type: "error", code: unavailable.code, message: unavailable.message, ref });
      return;
    }
    if (err instanceof KilnError) {
      this.send({ type: "error", code: err.code, message: err.message, ref });
      return;
    }
    this.#log.error({ err, ref }, "handling a worker message failed");
    this.send({ type: "error", code: "internal_error", message: "internal error", ref });
  }

  async #onClose(): Promise<void> {
    this.#closed = true;
    if (!this.#draining) await this.#finish();
  }

  async #finish(): Promise<void> {
    const session = this.#session;
    if (session && !this.#finished) {
      this.#finished = true;
      try {
        await this.#hub.disconnect(session);
      } catch (err) {
        this.#log.warn({ err }, "recording a worker's disconnect failed");
      }
    }
    this.#settle();
  }

  /** Drops the connection without the closing handshake (a worker that does not answer one). */
  terminate(): void {
    this.#socket.terminate();
  }
}

function refOf(json: unknown): Ref | undefined {
  if (!json || typeof json !== "object") return undefined;
  const { type, jobId } = json as { type?: unknown; jobId?: unknown };
  if (typeof type !== "string") return undefined;
  return {
    type: type.slice(0, 50),
    ...(typeof jobId === "string" ? { jobId: jobId.slice(0, 64) } : {}),
  };
}
