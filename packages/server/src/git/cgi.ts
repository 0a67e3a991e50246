import type { Readable } from "node:stream";

/** The header block a CGI program prints before its body (RFC 3875 §6). */
export interface CgiHead {
  status: number;
  /** Only the headers a git client needs; anything else the program prints is dropped. */
  headers: Record<string, string>;
}

const FORWARDED = new Set(["content-type", "cache-control", "expires", "pragma"]);
const MAX_HEAD_BYTES = 16 * 1024;

export class CgiError extends Error {}

/** Parses the header lines (without the blank line that ends them). */
export function parseCgiHead(text: string): CgiHead {
  const head: CgiHead = { status: 200, headers: {} };
  for (const line of text.split(/\r?\n/)) {
    if (line === "") continue;
    const colon = line.indexOf(":");
    if (colon <= 0) throw new CgiError(`not a CGI header line: ${JSON.stringify(line.slice(0, 100))}`);
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === "status") {
      const code = /^([1-5]\d\d)(?:\s|$)/.exec(value);
      if (!code) throw new CgiError(`not a CGI status: ${JSON.stringify(value.slice(0, 100))}`);
      head.status = Number(code[1]);
    } else if (FORWARDED.has(name) && /^[\t\x20-\x7e]*$/.test(value)) {
      head.headers[name] = value;
    }
  }
  return head;
}

/**
 * Reads the CGI header block from the start of `stream` and leaves the stream paused right after it.
 * `rest` is what was read past the block: the first bytes of the body. Rejects when the stream ends
 * first or the block is implausibly long.
 */
export function readCgiHead(stream: Readable): Promise<{ head: CgiHead; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    const done = (error?: Error) => {
      stream.off("data", onData);
      stream.off("end", onEnd);
      stream.off("error", onError);
      if (error) reject(error);
    };
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const end = endOfHead(buffered);
      if (end) {
        stream.pause();
        done();
        try {
          resolve({
            head: parseCgiHead(buffered.subarray(0, end.at).toString("latin1")),
            rest: buffered.subarray(end.next),
          });
        } catch (error) {
          reject(error);
        }
      } else if (buffered.length > MAX_HEAD_BYTES) {
        done(new CgiError("the CGI header block is too long"));
      }
    };
    const onEnd = () => done(new CgiError("the CGI program ended before its headers"));
    const onError = (error: Error) => done(error);
    stream.on("data", onData);
    stream.once("end", onEnd);
    stream.once("error", onError);
  });
}

function endOfHead(buffer: Buffer): { at: number; next: number } | undefined {
  const crlf = buffer.indexOf("\r\n\r\n");
  const lf = buffer.indexOf("\n\n");
  if (crlf !== -1 && (lf === -1 || crlf < lf)) return { at: crlf, next: crlf + 4 };
  if (lf !== -1) return { at: lf, next: lf + 2 };
  return undefined;
}
