import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

/** An event as stored and replayed: its number is the SSE id a reconnecting client sends back. */
export interface NumberedEvent {
  seq: number;
  event: { type: string };
}

export type Follow<E extends NumberedEvent> = (
  emit: (event: E) => void,
  signal: AbortSignal,
) => Promise<void>;

/**
 * Server-sent events of numbered events (a chat turn, a job): `follow` replays what the client missed and
 * then streams live until it returns. The stream ends with it, when the client goes away, or when the
 * server closes (so shutdown never waits on open tabs).
 */
export function eventStreams(app: FastifyInstance) {
  const open = new Set<AbortController>();
  app.addHook("preClose", async () => {
    for (const controller of open) controller.abort();
  });
  return async function stream<E extends NumberedEvent>(
    request: FastifyRequest,
    reply: FastifyReply,
    follow: Follow<E>,
  ): Promise<FastifyReply> {
    const controller = new AbortController();
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      connection: "keep-alive",
      "x-accel-buffering": "no",
    });
    res.write(": stream\n\n");
    const ping = setInterval(() => res.write(": ping\n\n"), 15_000);
    open.add(controller);
    request.raw.on("close", () => controller.abort());
    try {
      await follow(
        (e) => res.write(`id: ${e.seq}\nevent: ${e.event.type}\ndata: ${JSON.stringify(e)}\n\n`),
        controller.signal,
      );
    } catch (err) {
      request.log.error({ err }, "event stream failed");
      res.write(
        `event: error\ndata: ${JSON.stringify({ code: "internal_error", message: "stream failed" })}\n\n`,
      );
    } finally {
      clearInterval(ping);
      open.delete(controller);
      res.end();
    }
    return reply;
  };
}

/** Where a reconnecting client left off: Last-Event-ID wins over the `after` query. */
export function lastEventId(request: FastifyRequest, fallback: number | undefined): number {
  const header = Number(request.headers["last-event-id"]);
  return Number.isInteger(header) && header >= 0 ? header : (fallback ?? 0);
}
