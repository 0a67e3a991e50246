import { Readable } from "node:stream";
import { KilnError } from "../errors/errors.ts";

/**
 * The ref updates at the head of a receive-pack request, checked before git sees them. `receive.hideRefs`
 * matches by prefix (hiding all but `refs/heads/kiln/task-1` still lets `refs/heads/kiln/task-1/x`
 * through), so for a caller limited to one ref every command must name exactly that ref.
 */

/** The commands are a few lines; a request whose first flush is further than this is not a push. */
const MAX_COMMANDS_BYTES = 64 * 1024;
const COMMAND = /^(?:[0-9a-f]{40}|[0-9a-f]{64}) (?:[0-9a-f]{40}|[0-9a-f]{64}) ([^\0\n]+)/;

/**
 * Reads the body up to its first flush packet, refuses (403) any command for a ref other than `allowed`
 * and signed pushes, and returns the whole body again (what was read, then the rest as it arrives).
 */
export async function onlyPushing(body: Readable, allowed: string): Promise<Readable> {
  const chunks = body.iterator({ destroyOnReturn: false }) as AsyncIterator<Buffer>;
  let head = Buffer.alloc(0);
  let pos = 0;
  let ended = false;
  const need = async (bytes: number): Promise<boolean> => {
    while (head.length < pos + bytes) {
      if (head.length > MAX_COMMANDS_BYTES) throw badRequest("the push's commands are too long");
      const next = await chunks.next();
      if (next.done) {
        ended = true;
        return false;
      }
      head = Buffer.concat([head, next.value]);
    }
    return true;
  };
  for (;;) {
    if (!(await need(4))) break;
    const hex = head.subarray(pos, pos + 4).toString("latin1");
    if (!/^[0-9a-f]{4}$/.test(hex)) throw badRequest("the push is not in git's pkt-line format");
    const length = Number.parseInt(hex, 16);
    if (length === 0) break; // flush: the commands are over, the pack follows
    if (length < 4) throw badRequest("the push is not in git's pkt-line format");
    if (!(await need(length))) break;
    const line = head.subarray(pos + 4, pos + length).toString("utf8");
    pos += length;
    if (line.startsWith("shallow ")) continue;
    if (line.startsWith("push-cert"))
      throw forbidden("a job's token cannot push signed (a push certificate)");
    const ref = COMMAND.exec(line)?.[1];
    if (ref !== allowed) throw forbidden(`a job's token may push ${allowed} only`);
  }
  const prefix = head;
  async function* whole() {
    if (prefix.length > 0) yield prefix;
    if (ended) return;
    for (;;) {
      const next = await chunks.next();
      if (next.done) return;
      yield next.value;
    }
  }
  return Readable.from(whole(), { objectMode: false });
}

function forbidden(message: string): KilnError {
  return new KilnError("forbidden", message);
}

function badRequest(message: string): KilnError {
  return new KilnError("bad_request", message);
}
