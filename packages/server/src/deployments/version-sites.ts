import type { IncomingMessage, ServerResponse } from "node:http";
import { ACCESS_COOKIE, CSRF_COOKIE, REFRESH_COOKIE } from "@kiln/protocol";
import { eq } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { orgs } from "../db/schema-shared.ts";
import { PREVIEW_COOKIE, PREVIEW_EMBED_COOKIE } from "../preview/access.ts";
import { readCookies } from "../preview/gateway.ts";
import { proxyHttp } from "../preview/proxy.ts";
import type { ArtifactStore } from "./artifacts.ts";
import type { SiteProcesses } from "./processes.ts";
import { serveStatic } from "./serve-static.ts";
import { parseVersionHost, type VersionAddress } from "./version-host.ts";
import { type SharedVersion, VERSION_SHARE_PATH, type VersionShareService } from "./version-shares.ts";

/** Holds a deployment share link's token on the deployment's own host. */
export const VERSION_SHARE_COOKIE = "kiln_version_share";
/** The cookie lasts this long at most (the link is checked on every request anyway). */
const COOKIE_SECONDS = 12 * 3600;

export interface VersionSitesOptions {
  database: Database;
  artifacts: ArtifactStore;
  processes: SiteProcesses;
  shares: VersionShareService;
  publishDomain: string;
  secureCookies: boolean;
  log?: { warn(obj: object, msg: string): void };
}

/**
 * A deployment's own host, `<project>--<org>--d<n>.<publishDomain>` (version-host.ts): only for holders of
 * one of its share links, and then exactly that deployment, current or not. A server app's older deployment
 * runs in a process of its own, so the live one is never replaced by it. Never reaches Fastify.
 */
export class VersionSites {
  readonly #o: VersionSitesOptions;

  constructor(options: VersionSitesOptions) {
    this.#o = options;
  }

  match(req: IncomingMessage): VersionAddress | undefined {
    return parseVersionHost(req.headers.host, this.#o.publishDomain);
  }

  async handle(req: IncomingMessage, res: ServerResponse, address: VersionAddress): Promise<void> {
    const [org] = await this.#o.database.db
      .select({ id: orgs.id, schemaName: orgs.schemaName })
      .from(orgs)
      .where(eq(orgs.slug, address.orgSlug));
    const open = (token: string) =>
      org ? this.#o.shares.open(org.schemaName, address.projectSlug, address.number, token) : undefined;
    const pathname = (req.url ?? "/").split("?")[0]!;
    if (pathname.startsWith(VERSION_SHARE_PATH)) {
      const token = pathname.slice(VERSION_SHARE_PATH.length);
      if (!(await open(token))) return refused(res);
      const cookie = [
        `${VERSION_SHARE_COOKIE}=${token}`,
        "Path=/",
        "HttpOnly",
        "SameSite=Lax",
        `Max-Age=${COOKIE_SECONDS}`,
        ...(this.#o.secureCookies ? ["Secure"] : []),
      ].join("; ");
      res.writeHead(302, { location: "/", "set-cookie": cookie, "cache-control": "no-store" });
      res.end();
      return;
    }
    // Every value: a sibling site under the publish domain can toss a cookie of the same name.
    let version: SharedVersion | undefined;
    for (const token of readCookies(req.headers.cookie, VERSION_SHARE_COOKIE).slice(0, 4)) {
      version = await open(token);
      if (version) break;
    }
    if (!org || !version) return refused(res);
    // Only link holders see it: no shared cache may keep it for others.
    res.setHeader("vary", "cookie");
    const server = version.manifest.server;
    if (!server) {
      await serveStatic(req, res, {
        manifest: version.manifest,
        blobPath: (digest) => this.#o.artifacts.blobPath(digest),
      });
      return;
    }
    const target = await this.#o.processes.target({
      orgId: org.id,
      projectId: version.projectId,
      deploymentId: version.deploymentId,
      manifest: version.manifest,
      server,
      slot: `version:${version.deploymentId}`,
    });
    if (target.state === "ready") {
      proxyHttp(req, res, target.target, {
        hiddenCookies: HIDDEN,
        onError: (err) => {
          this.#o.log?.warn({ err, host: req.headers.host }, "shared deployment: proxy failed");
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
}

/** Neither Kiln's cookies nor the link's own reach the app. */
const HIDDEN: ReadonlySet<string> = new Set([
  ACCESS_COOKIE,
  REFRESH_COOKIE,
  CSRF_COOKIE,
  PREVIEW_COOKIE,
  PREVIEW_EMBED_COOKIE,
  VERSION_SHARE_COOKIE,
]);

function refused(res: ServerResponse): void {
  res.writeHead(401, {
    "content-type": "text/html; charset=utf-8",
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
  });
  res.end(
    '<!doctype html><meta charset="utf-8"><meta name="viewport" content="width=device-width">' +
      "<title>Link expired</title>" +
      '<body style="font:16px system-ui;margin:20vh auto;max-width:32rem;padding:0 1rem;color:#333">' +
      "<h1>This link does not open anything</h1><p>The share link was revoked or has expired, or this " +
      "version was never shared. Ask whoever sent it for a new one.</p>",
  );
}

function plain(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, {
    "content-type": "text/plain; charset=utf-8",
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
  });
  res.end(text);
}
