import http from "node:http";
import type { Duplex } from "node:stream";
import type { FastifyBaseLogger, FastifyServerFactory } from "fastify";
import { driverError } from "./db/driver-error.ts";
import { DATABASE_RETRY_AFTER_SECONDS, isDatabaseUnavailable } from "./db/unavailable.ts";
import type { PublishedSites } from "./deployments/sites.ts";
import type { VersionSites } from "./deployments/version-sites.ts";
import type { CustomDomainSites } from "./domains/serve.ts";
import type { PreviewGateway } from "./preview/gateway.ts";

/**
 * The HTTP server Kiln listens with. Requests for a published site's host go to its sites, for a
 * deployment's own host (its share links) to the version sites, for a preview host to the preview gateway,
 * plain requests and WebSocket upgrades alike; none reaches Fastify's routes. A custom domain's host is
 * looked up last (verified: the project's site; pending: a page saying so). Everything else is the studio.
 */
export function hostAwareServer(
  gateway: PreviewGateway,
  sites: PublishedSites,
  log: FastifyBaseLogger,
  more: { domains?: CustomDomainSites; versions?: VersionSites } = {},
): FastifyServerFactory {
  const { domains, versions } = more;
  return (handler) => {
    const server = http.createServer((req, res) => {
      const site = sites.match(req);
      if (site) {
        sites.handle(req, res, site).catch((err: unknown) => failed(err, res, req, log, "published site"));
        return;
      }
      const version = versions?.match(req);
      if (version) {
        versions!
          .handle(req, res, version)
          .catch((err: unknown) => failed(err, res, req, log, "shared deployment"));
        return;
      }
      const address = gateway.match(req);
      if (address) {
        gateway.handle(req, res, address).catch((err: unknown) => failed(err, res, req, log, "preview"));
        return;
      }
      const hostname = domains?.candidate(req);
      if (!hostname) return handler(req, res);
      domains!
        .handle(req, res, hostname)
        .then((answered) => {
          if (!answered) handler(req, res);
        })
        .catch((err: unknown) => failed(err, res, req, log, "custom domain"));
    });
    // Upgrades are dispatched by intercepting the event itself, so a preview socket is never also offered to
    // the studio's own WebSocket routes (terminal, events).
    const emit = server.emit.bind(server) as (event: string, ...args: unknown[]) => boolean;
    server.emit = ((event: string, ...args: unknown[]) => {
      if (event === "upgrade") {
        const [req, socket, head] = args as [http.IncomingMessage, Duplex, Buffer];
        // A published site is static files: nothing to upgrade to, and never a studio socket.
        if (sites.match(req) || versions?.match(req) || domains?.knownSite(req)) {
          socket.end("HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n");
          return true;
        }
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

function failed(
  err: unknown,
  res: http.ServerResponse,
  req: http.IncomingMessage,
  log: FastifyBaseLogger,
  what: string,
): void {
  if (res.headersSent) return void res.destroy();
  // Finding the project needs the database; while it is away the browser is asked to come back.
  if (isDatabaseUnavailable(err)) {
    log.warn({ error: driverError(err), host: req.headers.host }, `${what}: database unavailable`);
    res
      .writeHead(503, {
        "content-type": "text/plain",
        "retry-after": String(DATABASE_RETRY_AFTER_SECONDS),
      })
      .end("Kiln lost its database for a moment; reload shortly");
    return;
  }
  log.error({ err, host: req.headers.host }, `${what} request failed`);
  res.writeHead(500, { "content-type": "text/plain" }).end(`${what} error`);
}
