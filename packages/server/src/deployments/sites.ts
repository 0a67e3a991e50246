import type { IncomingMessage, ServerResponse } from "node:http";
import { ACCESS_COOKIE, CSRF_COOKIE, REFRESH_COOKIE } from "@kiln/protocol";
import { eq } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { orgs } from "../db/schema-shared.ts";
import { PREVIEW_COOKIE, PREVIEW_EMBED_COOKIE } from "../preview/access.ts";
import { proxyHttp } from "../preview/proxy.ts";
import type { ArtifactStore } from "./artifacts.ts";
import { parseSiteHost, type SiteAddress } from "./host.ts";
import type { ArtifactManifest } from "./manifest.ts";
import type { SiteProcesses } from "./processes.ts";
import { serveStatic } from "./serve-static.ts";

/** How long a host keeps pointing at the deployment it was last seen with (other replicas' promotions). */
const LOOKUP_TTL_MS = 1000;

export interface SitesOptions {
  database: Database;
  artifacts: ArtifactStore;
  publishDomain: string;
  /** A project's current deployment, by its org's schema and its slug. */
  current(schemaName: string, projectSlug: string): Promise<CurrentSite | undefined>;
  /** Server apps' processes (processes.ts). */
  processes: SiteProcesses;
  log?: { warn(obj: object, msg: string): void };
}

export interface CurrentSite {
  id: string;
  projectId: string;
  manifest: ArtifactManifest;
}

/**
 * Published sites (ADR 0023): a request for `<project>--<org>.<publishDomain>` is answered from the project's
 * current deployment, to anyone, with no Kiln session and nothing of the studio or the preview in it. Never
 * reaches Fastify (host-server.ts dispatches by host).
 */
export class PublishedSites {
  readonly #o: SitesOptions;
  readonly #lookups = new Map<
    string,
    { at: number; org: { id: string } | undefined; site: CurrentSite | undefined }
  >();

  constructor(options: SitesOptions) {
    this.#o = options;
  }

  match(req: IncomingMessage): SiteAddress | undefined {
    return parseSiteHost(req.headers.host, this.#o.publishDomain);
  }

  async handle(req: IncomingMessage, res: ServerResponse, address: SiteAddress): Promise<void> {
    const { org, site } = await this.#lookup(address);
    if (!site || !org) {
      res.writeHead(404, {
        "content-type": "text/html; charset=utf-8",
        "cache-control": "no-store",
        "x-content-type-options": "nosniff",
      });
      res.end(NOTHING_HERE);
      return;
    }
    const server = site.manifest.server;
    if (!server) {
      await serveStatic(req, res, {
        manifest: site.manifest,
        blobPath: (digest) => this.#o.artifacts.blobPath(digest),
      });
      return;
    }
    const target = await this.#o.processes.target({
      orgId: org.id,
      projectId: site.projectId,
      deploymentId: site.id,
      manifest: site.manifest,
      server,
    });
    if (target.state === "ready") {
      proxyHttp(req, res, target.target, {
        hiddenCookies: NO_COOKIES,
        onError: (err) => {
          this.#o.log?.warn({ err, host: req.headers.host }, "published server: proxy failed");
          if (!res.headersSent) plain(res, 502, "The app did not answer.");
          else res.destroy();
        },
      });
      return;
    }
    if (target.state === "starting") {
      res.setHeader("retry-after", "1");
      return plain(res, 503, "The app is starting; try again in a moment.");
    }
    plain(res, 502, `The app is not running: ${target.reason}.`);
  }

  /** A promotion here is seen at once; one on another replica within LOOKUP_TTL_MS. */
  forget(address: SiteAddress): void {
    this.#lookups.delete(keyOf(address));
  }

  async #lookup(address: SiteAddress) {
    const key = keyOf(address);
    const cached = this.#lookups.get(key);
    if (cached && Date.now() - cached.at < LOOKUP_TTL_MS) return cached;
    const [org] = await this.#o.database.db
      .select({ id: orgs.id, schemaName: orgs.schemaName })
      .from(orgs)
      .where(eq(orgs.slug, address.orgSlug));
    const site = org ? await this.#o.current(org.schemaName, address.projectSlug) : undefined;
    if (this.#lookups.size > 10_000) this.#lookups.clear();
    const found = { at: Date.now(), org, site };
    this.#lookups.set(key, found);
    return found;
  }
}

const NOTHING_HERE =
  '<!doctype html><meta charset="utf-8"><meta name="viewport" content="width=device-width">' +
  "<title>Nothing published here</title>" +
  '<body style="font:16px system-ui;margin:20vh auto;max-width:32rem;padding:0 1rem;color:#333">' +
  "<h1>Nothing published here</h1><p>There is no published app at this address yet.</p>";

/** The studio's cookies never reach a published app (it has its own origin; this is the second line). */
const NO_COOKIES: ReadonlySet<string> = new Set([
  ACCESS_COOKIE,
  REFRESH_COOKIE,
  CSRF_COOKIE,
  PREVIEW_COOKIE,
  PREVIEW_EMBED_COOKIE,
]);

function plain(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, {
    "content-type": "text/plain; charset=utf-8",
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
  });
  res.end(text);
}

const keyOf = (a: SiteAddress) => `${a.projectSlug}--${a.orgSlug}`;
