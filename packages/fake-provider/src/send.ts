import type { ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";

/** An early end for a body or stream: after `afterChunks` pieces the connection is cut or left hanging. */
export interface Stop {
  kind: "cut" | "hang";
  afterChunks: number;
}

const BODY_PIECE_BYTES = 32;

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
  stop?: Stop,
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
  });
  if (!stop) {
    res.end(text);
    return;
  }
  // The declared length promises the whole body; a client sees the missing rest as a broken response.
  const bytes = Buffer.from(text);
  const pieces: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += BODY_PIECE_BYTES)
    pieces.push(bytes.subarray(i, i + BODY_PIECE_BYTES));
  res.flushHeaders();
  for (const piece of pieces.slice(0, Math.min(stop.afterChunks, pieces.length - 1))) res.write(piece);
  if (stop.kind === "cut") cut(res);
}

/**
 * Writes SSE frames one by one (pausing `delayMs` before each), stopping early when the client goes away.
 * With `stop`, only that many frames are sent (never the last one), then the socket is cut or left hanging;
 * `tail` frames (a streamed error event) are written last, before the normal end.
 */
export async function sendStream(
  res: ServerResponse,
  frames: string[],
  options: { headers: Record<string, string>; delayMs: number; stop?: Stop | undefined; tail?: string[] },
): Promise<void> {
  res.writeHead(200, {
    ...options.headers,
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
    connection: "keep-alive",
  });
  res.flushHeaders();
  const { stop, tail = [] } = options;
  const count = stop ? Math.min(stop.afterChunks, frames.length - 1) : frames.length;
  for (const frame of [...frames.slice(0, count), ...tail]) {
    if (options.delayMs > 0) await sleep(options.delayMs);
    if (res.destroyed || res.writableEnded) return;
    if (!res.write(frame)) await drained(res);
  }
  if (stop?.kind === "cut") cut(res);
  else if (!stop) res.end();
}

function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}

/** Lets what was written reach the client, then kills the connection without a proper end. */
function cut(res: ServerResponse): void {
  const socket = res.socket;
  socket?.end(() => socket.destroy());
}
