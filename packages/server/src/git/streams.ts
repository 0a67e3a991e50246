import type { Readable, Writable } from "node:stream";

/** Moving bytes between an HTTP request and git's stdio without buffering more than a chunk. */

/** The request body grew past its limit. */
export class PushTooLarge extends Error {}
/** The request body broke off (the client hung up). */
export class ClientGone extends Error {}

/** Copies the request body into git's stdin with backpressure, refusing more than `limit` bytes. */
export async function feed(body: Readable, stdin: Writable, limit: number): Promise<void> {
  let bytes = 0;
  try {
    // Not destroyed on an early stop: the request's socket still carries the answer.
    for await (const chunk of body.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      if (bytes > limit) throw new PushTooLarge();
      if (stdin.destroyed) return; // git stopped reading; its answer says why
      if (!stdin.write(chunk)) await drained(stdin);
    }
  } catch (error) {
    if (error instanceof PushTooLarge) throw error;
    throw new ClientGone(undefined, { cause: error });
  }
  stdin.end();
}

export async function endInput(stdin: Writable): Promise<void> {
  stdin.end();
}

function drained(stream: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off("drain", done);
      stream.off("close", done);
      stream.off("error", done);
      resolve();
    };
    stream.on("drain", done);
    stream.on("close", done);
    stream.on("error", done);
  });
}

/** Keeps up to `max` bytes of a stream (the rest is read and dropped, so the writer never blocks). */
export function collect(stream: Readable, max: number) {
  const chunks: Buffer[] = [];
  let size = 0;
  stream.on("data", (chunk: Buffer) => {
    if (size >= max) return;
    chunks.push(chunk);
    size += chunk.length;
  });
  return {
    buffer: () => Buffer.concat(chunks),
    text: () => Buffer.concat(chunks).toString("utf8"),
  };
}
