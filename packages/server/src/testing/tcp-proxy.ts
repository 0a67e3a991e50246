import net from "node:net";

/**
 * A TCP forwarder for fault tests: the network between a client and a server, as a port that relays to
 * `target`. A test can cut every connection, close the listener (new connections are refused) and open it
 * again, and read the WebSocket text messages passing through (RFC 6455: client frames are masked, the
 * proxy unmasks a copy) — to cut a connection at an exact message. Plain HTTP passes untouched.
 *
 * Messages are read one frame each, as `ws` sends them (no fragments, no compression: the servers here do
 * not negotiate permessage-deflate).
 */
export interface TcpProxy {
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Connections relayed right now. */
  readonly open: number;
  /** Destroys every relayed connection, both sides, at once. */
  cut(): void;
  /** Closes the listener: new connections are refused until `restore()`. Open ones are left alone. */
  refuse(): Promise<void>;
  /** Listens again on the same port. */
  restore(): Promise<void>;
  /** Calls `listener` with every WebSocket text message relayed (in either direction) from now on. */
  onMessage(listener: (message: SeenMessage) => void): () => void;
  /**
   * Arms a one-shot cut at the first WebSocket text message from a client that `match` accepts. With
   * `deliver: true` it reaches the target before the cut (the server got it, the client never sees an
   * answer); with `deliver: false` it is dropped (the server never got it). Every connection is cut then,
   * as when a network goes away; with `refuse` the listener closes in the same tick, so the client's
   * reconnects are refused until `restore()`. Resolves with the message's text once cut.
   */
  cutAtClientMessage(options: {
    match: (text: string) => boolean;
    deliver: boolean;
    refuse?: boolean;
  }): Promise<string>;
  close(): Promise<void>;
}

export interface SeenMessage {
  from: "client" | "server";
  text: string;
  /** Numbers the proxied connections from 1, in the order they were accepted. */
  connection: number;
}

interface Relay {
  id: number;
  client: net.Socket;
  upstream: net.Socket;
  websocket: boolean;
}

interface Trap {
  match: (text: string) => boolean;
  deliver: boolean;
  refuse: boolean;
  sprung: (text: string) => void;
  failed: (err: Error) => void;
}

const HEADER_END = Buffer.from("\r\n\r\n");
/** A longer header section is no WebSocket handshake; it is relayed without being read. */
const MAX_HEAD_BYTES = 64 * 1024;

export async function startTcpProxy(options: {
  target: number;
  targetHost?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
}): Promise<TcpProxy> {
  const targetHost = options.targetHost ?? "127.0.0.1";
  const relays = new Set<Relay>();
  const listeners = new Set<(m: SeenMessage) => void>();
  let trap: Trap | undefined;
  let listener: net.Server | undefined;
  let port = options.port ?? 0;
  let accepted = 0;

  const destroy = (r: Relay) => {
    relays.delete(r);
    r.client.destroy();
    r.upstream.destroy();
  };

  function accept(client: net.Socket): void {
    const upstream = net.connect({ port: options.target, host: targetHost });
    const r: Relay = { id: ++accepted, client, upstream, websocket: false };
    relays.add(r);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    // One side closing ends the other gracefully (data in flight still arrives); an error tears down both.
    client.on("error", () => destroy(r)).on("close", () => endOther(r, upstream));
    upstream.on("error", () => destroy(r)).on("close", () => endOther(r, client));
    relay(r, "client");
    relay(r, "server");
  }

  function endOther(r: Relay, other: net.Socket): void {
    relays.delete(r);
    other.end();
  }

  /**
   * One direction of a connection: the HTTP head first; after a WebSocket handshake, frame by frame, so a
   * trap can stop the stream exactly before or after one message. Anything else is piped as it comes.
   */
  function relay(r: Relay, from: "client" | "server"): void {
    const source = from === "client" ? r.client : r.upstream;
    const sink = from === "client" ? r.upstream : r.client;
    let head: Buffer | undefined = Buffer.alloc(0);
    let frames: Buffer = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      if (head) {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf(HEADER_END);
        if (end < 0 && head.length < MAX_HEAD_BYTES) return;
        const text = head.subarray(0, Math.max(end, 0)).toString("latin1");
        const upgraded =
          end >= 0 &&
          (from === "client"
            ? /^upgrade:\s*websocket\s*$/im.test(text)
            : r.websocket && /^HTTP\/1\.1 101 /.test(text));
        if (from === "client") r.websocket = upgraded;
        const rest = end < 0 ? Buffer.alloc(0) : head.subarray(end + HEADER_END.length);
        sink.write(head.subarray(0, head.length - rest.length));
        head = undefined;
        if (!upgraded) {
          source.off("data", onData);
          if (rest.length) sink.write(rest);
          source.pipe(sink);
          return;
        }
        frames = rest;
      } else {
        frames = Buffer.concat([frames, chunk]);
      }
      for (;;) {
        const frame = nextFrame(frames);
        if (!frame) break;
        const bytes = frames.subarray(0, frame.length);
        frames = frames.subarray(frame.length);
        if (frame.compressed)
          throw new Error("tcp-proxy: a compressed WebSocket frame; it cannot read those");
        if (frame.text !== undefined) {
          for (const l of listeners) l({ from, text: frame.text, connection: r.id });
          if (from === "client" && trap?.match(frame.text)) {
            spring(r, bytes, frame.text);
            return;
          }
        }
        sink.write(bytes);
      }
    };
    source.on("data", onData);
  }

  function spring(r: Relay, frame: Buffer, text: string): void {
    const t = trap!;
    trap = undefined;
    if (t.refuse) void closeListener();
    relays.delete(r);
    // The client side goes now, so no answer can reach it. The server side is ended, not destroyed:
    // everything relayed so far (with `deliver`, the message too) reaches it, in order, before the FIN.
    for (const s of [r.client, r.upstream]) {
      s.removeAllListeners("data").removeAllListeners("close").removeAllListeners("error");
      s.on("error", () => {});
    }
    r.client.destroy();
    r.upstream.resume();
    if (t.deliver) r.upstream.end(frame);
    else r.upstream.end();
    for (const other of [...relays]) destroy(other);
    t.sprung(text);
  }

  async function openListener(): Promise<void> {
    const server = net.createServer(accept);
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
    port = (server.address() as net.AddressInfo).port;
    listener = server;
  }

  async function closeListener(): Promise<void> {
    const server = listener;
    listener = undefined;
    // close() stops listening at once; its callback would wait for the relayed connections too.
    server?.close();
  }

  await openListener();

  return {
    get port() {
      return port;
    },
    get url() {
      return `http://127.0.0.1:${port}`;
    },
    get open() {
      return relays.size;
    },
    cut: () => {
      for (const r of [...relays]) destroy(r);
    },
    refuse: closeListener,
    restore: async () => {
      if (!listener) await openListener();
    },
    onMessage: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    cutAtClientMessage: ({ match, deliver, refuse = false }) =>
      new Promise<string>((resolve, reject) => {
        if (trap) return reject(new Error("tcp-proxy: a cut is armed already"));
        trap = { match, deliver, refuse, sprung: resolve, failed: reject };
      }),
    close: async () => {
      trap?.failed(new Error("tcp-proxy: closed before the message came"));
      trap = undefined;
      await closeListener();
      for (const r of [...relays]) destroy(r);
    },
  };
}

/**
 * The first whole frame in `buf`, if there is one: its length on the wire and, for a text frame, its
 * payload unmasked. Control and binary frames come back without text.
 */
function nextFrame(buf: Buffer): { length: number; text?: string; compressed: boolean } | undefined {
  if (buf.length < 2) return undefined;
  const opcode = buf[0]! & 0x0f;
  const compressed = (buf[0]! & 0x40) !== 0;
  const masked = (buf[1]! & 0x80) !== 0;
  let size = buf[1]! & 0x7f;
  let offset = 2;
  if (size === 126) {
    if (buf.length < 4) return undefined;
    size = buf.readUInt16BE(2);
    offset = 4;
  } else if (size === 127) {
    if (buf.length < 10) return undefined;
    size = Number(buf.readBigUInt64BE(2));
    offset = 10;
  }
  const mask = masked ? buf.subarray(offset, offset + 4) : undefined;
  if (masked) offset += 4;
  const length = offset + size;
  if (buf.length < length) return undefined;
  if (opcode !== 0x1 || compressed) return { length, compressed };
  const payload = Buffer.from(buf.subarray(offset, length));
  if (mask) for (let i = 0; i < payload.length; i++) payload[i] = payload[i]! ^ mask[i % 4]!;
  return { length, text: payload.toString("utf8"), compressed };
}
