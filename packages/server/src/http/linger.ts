import type { Socket } from "node:net";

/**
 * A "lingering close" for a connection answered before its request body was read to the end (a push
 * refused at its size limit). Closing such a socket outright makes the kernel reset the connection as
 * soon as the client's next bytes arrive, and a reset throws away the answer still in the client's
 * receive buffer: git then says "broken pipe" instead of "413". Instead the answer is sent and the
 * sending side shut (FIN), the rest of the upload is read and dropped for a short while, and only then
 * is the socket destroyed. Both the time and the bytes read meanwhile are bounded, so an endless
 * upload cannot hold the connection.
 */
export interface LingerLimits {
  /** How long to keep reading after the answer was sent. */
  ms: number;
  /** How much to read and drop meanwhile. */
  bytes: number;
}

export const DEFAULT_LINGER: LingerLimits = { ms: 2_000, bytes: 8 * 1024 * 1024 };

const lingering = new WeakSet<Socket>();

/**
 * Makes the server's close of `socket` (Node's HTTP server calls `destroySoon` once a `Connection:
 * close` answer has been written) a lingering one.
 */
export function lingerOnClose(socket: Socket, limits: LingerLimits = DEFAULT_LINGER): void {
  if (lingering.has(socket)) return;
  lingering.add(socket);
  socket.destroySoon = () => {
    // Counted from the socket, not its data events: the HTTP parser may read the handle directly.
    const start = socket.bytesRead;
    const deadline = Date.now() + limits.ms;
    const poll = setInterval(() => {
      if (Date.now() >= deadline || socket.bytesRead - start > limits.bytes) socket.destroy();
    }, 50);
    poll.unref();
    socket.once("close", () => clearInterval(poll));
    socket.once("end", () => socket.destroy()); // the client is done sending too
    socket.end();
    socket.resume();
  };
}
