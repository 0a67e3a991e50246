import http from "node:http";
import type { Duplex } from "node:stream";
import type { FastifyBaseLogger, FastifyServerFactory } from "fastify";
import { driverError } from "../db/driver-error.ts";
import { DATABASE_RETRY_AFTER_SECONDS, isDatabaseUnavailable } from "../db/unavailable.ts";
import type { PreviewGateway } from "./gateway.ts";

/**
 * The HTTP server Kiln listens with. Requests for a preview host never reach Fastify's routes: they go to
 * the preview gateway first, plain requests and WebSocket upgrades alike. Everything else is the studio.
 */
export function previewAwareServer(gateway: PreviewGateway, log: FastifyBaseLogger): FastifyServerFactory {
  return (handler) => {
    const server = http.createServer((req, res) => {
      const address = gateway.match(req);
      if (!address) return handler(req, res);
      gateway.handle(req, res, address).catch((err: unknown) => {
        if (res.headersSent) return res.destroy();
        // Finding the preview needs the database; while it is away the browser is asked to come back.
        if (isDatabaseUnavailable(err)) {
          log.warn({ error: driverError(err), host: req.headers.host }, "preview: database unavailable");
          res
            .writeHead(503, {
              "content-type": "text/plain",
              "retry-after": String(DATABASE_RETRY_AFTER_SECONDS),
            })
            .end("Kiln lost its database for a moment; reload shortly");
          return;
        }
        log.error({ err, host: req.headers.host }, "preview request failed");
        res.writeHead(500, { "content-type": "text/plain" }).end("preview error");
      });
    });
    // Upgrades are dispatched by intercepting the event itself, so a preview socket is never also offered to
    // the studio's own WebSocket routes (terminal, events).
    const emit = server.emit.bind(server) as (event: string, ...args: unknown[]) => boolean;
    server.emit = ((event: string, ...args: unknown[]) => {
      if (event === "upgrade") {
        const [req, socket, head] = args as [http.IncomingMessage, Duplex, Buffer];
        const address = gateway.match(req);
        if (address) {
          gateway.handleUpgrade(req, socket, head, address).catch((err: unknown) => {
            log.error({ err, host: req.headers.host }, "preview upgrade failed");
            socket.destroy();
          });
          return true;
        }
      }
      return emit(event, ...args);
    }) as typeof server.emit;
    // Node treats an upgrade as a plain request when nobody listens for "upgrade"; this listener makes the
    // event fire, and refuses upgrades that no other listener (a studio WebSocket route) will take.
    const refuseUnclaimed = (_req: http.IncomingMessage, socket: Duplex) => {
      if (server.listenerCount("upgrade") === 1)
        socket.end("HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n");
    };
    server.on("upgrade", refuseUnclaimed);
    return server;
  };
}
