import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { driverError } from "../db/driver-error.ts";
import { isDatabaseUnavailable } from "../db/unavailable.ts";
import { StreamSlots, TooManyStreamsError } from "../streams/slots.ts";
import { principalOf } from "./principal.ts";

/** An event as stored and replayed: its number is the SSE id a reconnecting client sends back. */
export interface NumberedEvent {
  seq: number;
  event: { type: string };
}

export type Follow<E> = (emit: (event: E) => void, signal: AbortSignal) => Promise<void>;

/** One event as its SSE frame (`id:`, `event:`, `data:` lines). */
export type Frame<E> = (event: E) => { id: number; event: string; data: unknown };

export interface EventStreams {
  /** Numbered events: the id is `seq`, the event name `event.type`, the data the whole event. */
  numbered<E extends NumberedEvent>(
    request: FastifyRequest,
    reply: FastifyReply,
    follow: Follow<E>,
  ): Promise<FastifyReply>;
  /** Anything else, framed by `frame`. */
  framed<E>(
    request: FastifyRequest,
    reply: FastifyReply,
    follow: Follow<E>,
    frame: Frame<E>,
  ): Promise<FastifyReply>;
  /** Throws 429 `too_many_streams` now if the caller has no slot free (before work a stream would follow). */
  ensureRoom(request: FastifyRequest): void;
  readonly slots: StreamSlots;
}

/** Streams are counted per user, over every session and token they hold. */
const ownerOf = (request: FastifyRequest) => `user:${principalOf(request).userId}`;

const numberedFrame = (e: NumberedEvent) => ({ id: e.seq, event: e.event.type, data: e });

/**
 * Server-sent events for every live stream of the API: `follow` replays what the client missed and then
 * streams live until it returns. The stream ends with it, when the client goes away, or when the server
 * closes (so shutdown never waits on open tabs). Each stream holds one of its user's slots
 * (`KILN_MAX_STREAMS_PER_USER`) from before the first byte until its socket closes, however it closes;
 * one past the cap is a 429 `too_many_streams`. Check that the thing streamed exists and is the caller's
 * before calling: once the 200 is sent, a failure can only be an `error` event.
 */
export function eventStreams(app: FastifyInstance, options: { maxPerUser: number }): EventStreams {
  const slots = new StreamSlots(options.maxPerUser);
  const open = new Set<AbortController>();
  app.addHook("preClose", async () => {
    for (const controller of open) controller.abort();
  });

  async function framed<E>(
    request: FastifyRequest,
    reply: FastifyReply,
    follow: Follow<E>,
    frame: Frame<E>,
  ): Promise<FastifyReply> {
    // Taken before the reply is hijacked, so a refusal is an ordinary error envelope.
    const release = slots.take(ownerOf(request));
    const controller = new AbortController();
    const res = reply.raw;
    const closed = () => {
      controller.abort();
      release();
    };
    // `close` on the response fires however the connection ends (a reset, a proxy timeout, a tab closed).
    res.on("close", closed);
    request.raw.on("close", () => controller.abort());
    reply.hijack();
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      connection: "keep-alive",
      "x-accel-buffering": "no",
    });
    res.write(": stream\n\n");
    const ping = setInterval(() => res.write(": ping\n\n"), 15_000);
    open.add(controller);
    // Events that come in one turn of the event loop (a provider's chunk often holds several tokens) leave
    // in one write to the socket: corked at the first, uncorked once the loop moves on. Each keeps its frame.
    // Uncorked before anything else is written or the response ends: an HTTP response ended while corked
    // sends its last chunk before the corked ones (and the client sees a broken stream).
    let corked = false;
    const uncork = () => {
      if (!corked) return;
      corked = false;
      if (!res.destroyed) res.uncork();
    };
    try {
      await follow((e) => {
        if (res.writableEnded || res.destroyed) return;
        const f = frame(e);
        if (!corked) {
          corked = true;
          res.cork();
          setImmediate(uncork);
        }
        res.write(`id: ${f.id}\nevent: ${f.event}\ndata: ${JSON.stringify(f.data)}\n\n`);
      }, controller.signal);
    } catch (err) {
      // A database outage is worth a retry (the client reconnects with Last-Event-ID); anything else is a bug.
      const unavailable = isDatabaseUnavailable(err);
      if (unavailable) request.log.warn({ error: driverError(err) }, "event stream: database unavailable");
      else request.log.error({ err }, "event stream failed");
      uncork();
      if (!res.destroyed) {
        const data = unavailable
          ? {
              code: "database_unavailable",
              message: "Kiln lost its database for a moment; reconnect shortly",
            }
          : { code: "internal_error", message: "stream failed" };
        res.write(`event: error\ndata: ${JSON.stringify(data)}\n\n`);
      }
    } finally {
      clearInterval(ping);
      open.delete(controller);
      uncork();
      res.end();
      release();
    }
    return reply;
  }

  return {
    slots,
    framed,
    ensureRoom: (request) => {
      if (slots.held(ownerOf(request)) >= slots.limit) throw new TooManyStreamsError(slots.limit);
    },
    numbered: (request, reply, follow) => framed(request, reply, follow, numberedFrame),
  };
}

/** Where a reconnecting client left off: Last-Event-ID wins over the `after` query. */
export function lastEventId(request: FastifyRequest, fallback: number | undefined): number {
  const header = Number(request.headers["last-event-id"]);
  return Number.isInteger(header) && header >= 0 ? header : (fallback ?? 0);
}

/** Whether the client asked for a live stream rather than JSON. */
export function wantsStream(request: FastifyRequest): boolean {
  return String(request.headers.accept ?? "").includes("text/event-stream");
}
