import http, { type IncomingMessage, type ServerResponse } from "node:http";
import net from "node:net";
import type { Duplex } from "node:stream";
import { canInject, relayWithInjection } from "./errors-inject.ts";

export interface ProxyTarget {
  host: string;
  port: number;
}

// Hop-by-hop headers (RFC 9110 §7.6.1) are meaningful for one connection only and are not forwarded.
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

/** Removes named cookies from a Cookie header; Kiln's own preview session must never reach project code. */
export function stripCookies(header: string | undefined, names: ReadonlySet<string>): string | undefined {
  if (!header) return undefined;
  const kept = header
    .split(";")
    .map((c) => c.trim())
    .filter((c) => c && !names.has(c.slice(0, Math.max(0, c.indexOf("=")))));
  return kept.length ? kept.join("; ") : undefined;
}

function forwardedHeaders(req: IncomingMessage, hidden: ReadonlySet<string>): http.OutgoingHttpHeaders {
  const headers: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || name === "cookie") continue;
    headers[name] = value;
  }
  const cookie = stripCookies(req.headers.cookie, hidden);
  if (cookie) headers.cookie = cookie;
  headers["x-forwarded-host"] = req.headers.host ?? "";
  headers["x-forwarded-proto"] = "http";
  headers["x-forwarded-for"] = req.socket.remoteAddress ?? "";
  return headers;
}

/**
 * Streams one HTTP request to the dev server and its answer back. The Host header is kept, so the app sees
 * the preview origin it is served from. `onError` is called when the target cannot be reached before any
 * byte of the response was sent (the caller shows a "starting…" or error page).
 */
export function proxyHttp(
  req: IncomingMessage,
  res: ServerResponse,
  target: ProxyTarget,
  options: {
    hiddenCookies: ReadonlySet<string>;
    onError: (err: Error) => void;
    /** Markup to put at the start of an HTML answer's <head> (preview/errors-inject.ts). */
    injectHtml?: string | undefined;
  },
): void {
  const forwarded = forwardedHeaders(req, options.hiddenCookies);
  // A page we inject into must arrive uncompressed; previews are loopback traffic, so this costs little.
  if (options.injectHtml) forwarded["accept-encoding"] = "identity";
  const upstream = http.request({
    host: target.host,
    port: target.port,
    method: req.method,
    path: req.url,
    headers: forwarded,
  });
  upstream.on("response", (answer) => {
    const headers: http.OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(answer.headers)) {
      if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
    }
    if (options.injectHtml && canInject(req.method, answer)) {
      relayWithInjection(answer, res, headers, options.injectHtml).catch(() => res.destroy());
      return;
    }
    res.writeHead(answer.statusCode ?? 502, answer.statusMessage, headers);
    answer.pipe(res);
    answer.on("error", () => res.destroy());
  });
  upstream.on("error", (err) => {
    if (res.headersSent) res.destroy();
    else options.onError(err);
  });
  res.on("close", () => {
    if (!res.writableFinished) upstream.destroy();
  });
  req.pipe(upstream);
}

/**
 * Tunnels a WebSocket upgrade (Vite's HMR socket, say) to the dev server: replays the request line and
 * headers on a fresh TCP connection, then pipes bytes both ways until either side closes.
 */
export function proxyUpgrade(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  target: ProxyTarget,
  options: { hiddenCookies: ReadonlySet<string> },
): void {
  const upstream = net.connect(target.port, target.host);
  const fail = () => {
    socket.destroy();
    upstream.destroy();
  };
  upstream.on("error", fail);
  socket.on("error", fail);
  upstream.on("connect", () => {
    const headers = forwardedHeaders(req, options.hiddenCookies);
    // Upgrade needs its Connection/Upgrade headers, which are hop-by-hop for plain requests.
    headers.connection = "Upgrade";
    headers.upgrade = req.headers.upgrade ?? "websocket";
    let raw = `${req.method} ${req.url} HTTP/1.1\r\n`;
    for (const [name, value] of Object.entries(headers)) {
      for (const v of Array.isArray(value) ? value : [value]) {
        if (v !== undefined) raw += `${name}: ${String(v).replace(/[\r\n]/g, "")}\r\n`;
      }
    }
    upstream.write(`${raw}\r\n`);
    if (head.length) upstream.write(head);
    upstream.pipe(socket);
    socket.pipe(upstream);
  });
  socket.on("close", () => upstream.destroy());
  upstream.on("close", () => socket.destroy());
}
