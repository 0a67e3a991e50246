import type { IncomingMessage, ServerResponse } from "node:http";
import type { PublishedSites } from "../deployments/sites.ts";
import { hostOfRequest } from "./hostname.ts";
import type { DomainLookup } from "./lookup.ts";

/**
 * Requests whose Host is a custom domain (ADR 0026): a verified one is answered exactly as the project's
 * publish host is (its current deployment, static or server; sites.ts), a pending one with a page saying
 * so. Any other host is not theirs (`handle` answers false): the studio's, as before.
 */
export class CustomDomainSites {
  readonly #lookup: DomainLookup;
  readonly #sites: PublishedSites;
  readonly #studioHost: string;

  constructor(lookup: DomainLookup, sites: PublishedSites, publicUrl: string) {
    this.#lookup = lookup;
    this.#sites = sites;
    this.#studioHost = new URL(publicUrl).hostname.toLowerCase();
  }

  /** The hostname to look up, when the request could be for a custom domain at all (cheap, no I/O). */
  candidate(req: IncomingMessage): string | undefined {
    const name = hostOfRequest(req.headers.host);
    return name === this.#studioHost ? undefined : name;
  }

  /** Whether a verified custom domain is known (from the cache) to answer this host: no upgrades there. */
  knownSite(req: IncomingMessage): boolean {
    const name = this.candidate(req);
    return name !== undefined && this.#lookup.peek(name) !== undefined;
  }

  async handle(req: IncomingMessage, res: ServerResponse, hostname: string): Promise<boolean> {
    const target = await this.#lookup.resolve(hostname);
    if (!target) return false;
    if (target.state === "verified") {
      await this.#sites.handle(req, res, target.address);
      return true;
    }
    res.writeHead(404, {
      "content-type": "text/html; charset=utf-8",
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
    });
    res.end(notVerifiedPage(hostname));
    return true;
  }
}

function notVerifiedPage(hostname: string): string {
  // The hostname passed hostOfRequest: letters, digits, dots and hyphens only, nothing to escape.
  return (
    '<!doctype html><meta charset="utf-8"><meta name="viewport" content="width=device-width">' +
    "<title>Domain not verified yet</title>" +
    '<body style="font:16px system-ui;margin:20vh auto;max-width:32rem;padding:0 1rem;color:#333">' +
    `<h1>${hostname} is not verified yet</h1><p>This domain was added to an app on this Kiln, but its ` +
    "DNS record has not been verified. Once it is, the app is served here.</p>"
  );
}
