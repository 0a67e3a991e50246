import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { and, eq } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { memberships, orgs } from "../db/schema-shared.ts";
import { projects } from "../db/schema-tenant.ts";
import { PREVIEW_COOKIE, PREVIEW_EMBED_COOKIE, type PreviewTokens } from "./access.ts";
import type { PreviewErrors } from "./errors.ts";
import { receiveErrorReport } from "./errors-endpoint.ts";
import { ERROR_REPORTER_TAG, ERRORS_PATH } from "./errors-script.ts";
import type { UsedHandoffs } from "./handoffs.ts";
import { type PreviewAddress, parsePreviewHost, previewOrigin } from "./host.ts";
import { crashedPage, messagePage, startingPage } from "./pages.ts";
import { elementPickerTag } from "./picker-script.ts";
import { type ProxyTarget, proxyHttp, proxyUpgrade } from "./proxy.ts";
import { SHARE_PATH } from "./share-links.ts";

export interface PreviewProject {
  orgId: string;
  orgSlug: string;
  schemaName: string;
  projectId: string;
  projectSlug: string;
  name: string;
  template: string;
  previewPublic: boolean;
}

/** What the runtime says about a project's dev server when a preview request arrives. */
export type PreviewTarget =
  | { state: "ready"; target: ProxyTarget }
  | { state: "starting"; phase: string; log: string[] }
  | { state: "crashed"; reason: string; log: string[] };

export interface PreviewGatewayOptions {
  database: Database;
  tokens: PreviewTokens;
  /** Hand-off tokens already exchanged, shared by all replicas: each works once. */
  handoffs: UsedHandoffs;
  /** The studio's URL; a preview's origin has its scheme and port (host.ts). */
  publicUrl: string;
  appDomain: string;
  secureCookies: boolean;
  /**
   * Starts the dev server when needed (wake from hibernation) and says where it listens. A server that is
   * starting may be given up to `waitMs` to become ready before the answer is "starting".
   */
  resolveTarget(project: PreviewProject, waitMs: number): Promise<PreviewTarget>;
  /** How long a page request waits for a starting dev server before it gets the "starting…" page. */
  startWaitMs?: number;
  /** Share links (share-links.ts): whether a token opens this project's preview. */
  shares?: { valid(project: { schemaName: string; projectId: string }, token: string): Promise<boolean> };
  /** Marks a long-lived connection (HMR socket) open; the returned function marks it closed. */
  hold(project: PreviewProject): () => void;
  /** Collects errors the preview pages report; without it no reporter script is injected. */
  errors?: PreviewErrors | undefined;
}

/** Holds a share link's token on the preview's origin (share-links.ts). */
const SHARE_COOKIE = "kiln_preview_share";
const HIDDEN = new Set([PREVIEW_COOKIE, PREVIEW_EMBED_COOKIE, SHARE_COOKIE]);
/** A share link's cookie lasts this long at most (the link is checked on every request anyway). */
const SHARE_COOKIE_SECONDS = 12 * 3600;
const AUTH_PATH = "/__kiln/auth";
const MEMBERSHIP_TTL_MS = 5_000;
// Every module a dev page loads is a preview request; without this each one costs a transaction.
const LOOKUP_TTL_MS = 2_000;
// A cold Vite start is ~0.5–1 s: most first visits get the app itself, the rest a page that reloads.
const START_WAIT_MS = 5_000;

/**
 * The preview origin: every request whose Host is `<project>--<org>.<appDomain>` lands here instead of
 * the API. Private previews need a preview-scoped session (see access.ts) held by a current member.
 */
export class PreviewGateway {
  readonly #o: PreviewGatewayOptions;
  readonly #members = new Map<string, { ok: boolean; at: number }>();
  readonly #sockets = new Set<Duplex>();
  readonly #projects = new Map<string, { project: PreviewProject | undefined; at: number }>();

  /** Put into members' page loads: the error reporter and the element picker's page half. */
  readonly #memberScripts: string;

  constructor(options: PreviewGatewayOptions) {
    this.#o = options;
    this.#memberScripts = ERROR_REPORTER_TAG + elementPickerTag(new URL(options.publicUrl).origin);
  }

  match(req: IncomingMessage): PreviewAddress | undefined {
    return parsePreviewHost(req.headers.host, this.#o.appDomain);
  }

  async handle(req: IncomingMessage, res: ServerResponse, address: PreviewAddress): Promise<void> {
    res.setHeader("x-robots-tag", "noindex");
    const project = await this.#lookup(address);
    if (!project)
      return send(res, 404, messagePage("Preview not found", "There is no project at this address."));
    const url = new URL(req.url ?? "/", "http://preview");
    if (url.pathname === AUTH_PATH) return this.#exchange(res, project, address, url);
    if (url.pathname.startsWith(SHARE_PATH)) return this.#share(res, project, url);
    if (!(await this.#allowed(req, project))) {
      return send(
        res,
        401,
        messagePage("This preview is private", "Open it from the Kiln studio while signed in as a member."),
      );
    }
    if (url.pathname === ERRORS_PATH && this.#o.errors) {
      // Anyone may view a public or shared preview, but only members' pages may put text in front of the agent.
      const member = await this.#memberSession(req, project);
      return receiveErrorReport(req, res, project, this.#o.errors, member);
    }
    const target = await this.#o.resolveTarget(project, this.#o.startWaitMs ?? START_WAIT_MS);
    if (target.state === "starting") {
      res.setHeader("retry-after", "1");
      return send(res, 503, startingPage(project.name, target.phase, target.log));
    }
    if (target.state === "crashed")
      return send(res, 502, crashedPage(project.name, target.reason, target.log));
    proxyHttp(req, res, target.target, {
      hiddenCookies: HIDDEN,
      // Reachable a moment ago but not now: the server is restarting. Say so rather than fail blank.
      onError: () => send(res, 503, startingPage(project.name, "Reconnecting to the dev server", [])),
      injectHtml: (await this.#reportsErrors(req, project)) ? this.#memberScripts : undefined,
    });
  }

  /** Page loads of members get the error reporter (errors-script.ts) and the picker (picker-script.ts). */
  async #reportsErrors(req: IncomingMessage, project: PreviewProject): Promise<boolean> {
    if (!this.#o.errors || req.method !== "GET") return false;
    if (!String(req.headers.accept ?? "").includes("text/html")) return false;
    return this.#memberSession(req, project);
  }

  async handleUpgrade(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    address: PreviewAddress,
  ): Promise<void> {
    const refuse = (status: string) => {
      socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    };
    const project = await this.#lookup(address);
    if (!project) return refuse("404 Not Found");
    if (!(await this.#allowed(req, project))) return refuse("401 Unauthorized");
    // An HMR socket of a page from before a restart: no waiting, its client retries by itself.
    const target = await this.#o.resolveTarget(project, 0);
    if (target.state !== "ready") return refuse("503 Service Unavailable");
    const release = this.#o.hold(project);
    this.#sockets.add(socket);
    socket.on("close", () => {
      release();
      this.#sockets.delete(socket);
    });
    proxyUpgrade(req, socket, head, target.target, { hiddenCookies: HIDDEN });
  }

  /** Ends open preview WebSockets (HMR), which would otherwise keep a shutting-down server waiting. */
  close(): void {
    for (const socket of this.#sockets) socket.destroy();
  }

  async #exchange(
    res: ServerResponse,
    project: PreviewProject,
    address: PreviewAddress,
    url: URL,
  ): Promise<void> {
    const grant = await this.#o.tokens.verify(
      url.searchParams.get("token") ?? undefined,
      "preview-handoff",
      project,
    );
    // Claimed last, so a token shown to the wrong project's origin is not used up by it.
    if (
      !grant?.tokenId ||
      !(await this.#isMember(grant.userId, project.orgId)) ||
      !(await this.#o.handoffs.claim(grant.tokenId, grant.expiresAt))
    ) {
      return send(res, 401, messagePage("Link expired", "Open the preview again from the Kiln studio."));
    }
    const session = await this.#o.tokens.session(grant);
    const origin = previewOrigin(this.#o.publicUrl, this.#o.appDomain, address);
    const location = sameOriginTarget(url.searchParams.get("next"), origin);
    const maxAge = `Max-Age=${this.#o.tokens.cookieTtlSeconds}`;
    const cookie = [
      `${PREVIEW_COOKIE}=${session}`,
      "Path=/",
      "HttpOnly",
      "SameSite=Lax",
      maxAge,
      ...(this.#o.secureCookies ? ["Secure"] : []),
    ].join("; ");
    const embedCookie = `${PREVIEW_EMBED_COOKIE}=${session}; Path=/; HttpOnly; SameSite=None; Secure; Partitioned; ${maxAge}`;
    res.writeHead(302, { location, "set-cookie": [cookie, embedCookie], "cache-control": "no-store" });
    res.end();
  }

  /** A share link's landing: its token becomes this origin's cookie, then the app; a bad one is refused. */
  async #share(res: ServerResponse, project: PreviewProject, url: URL): Promise<void> {
    const token = url.pathname.slice(SHARE_PATH.length);
    if (!this.#o.shares || !(await this.#o.shares.valid(project, token)))
      return send(res, 401, messagePage("Link expired", "This share link was revoked or has expired."));
    const cookie = [
      `${SHARE_COOKIE}=${token}`,
      "Path=/",
      "HttpOnly",
      "SameSite=Lax",
      `Max-Age=${SHARE_COOKIE_SECONDS}`,
      ...(this.#o.secureCookies ? ["Secure"] : []),
    ].join("; ");
    res.writeHead(302, { location: "/", "set-cookie": cookie, "cache-control": "no-store" });
    res.end();
  }

  async #allowed(req: IncomingMessage, project: PreviewProject): Promise<boolean> {
    return (
      project.previewPublic || (await this.#memberSession(req, project)) || this.#sharedSession(req, project)
    );
  }

  async #sharedSession(req: IncomingMessage, project: PreviewProject): Promise<boolean> {
    if (!this.#o.shares) return false;
    for (const token of readCookies(req.headers.cookie, SHARE_COOKIE).slice(0, 4)) {
      if (await this.#o.shares.valid(project, token)) return true;
    }
    return false;
  }

  async #memberSession(req: IncomingMessage, project: PreviewProject): Promise<boolean> {
    // Every value, not the first: another preview of the same site can toss a cookie of the same name
    // (Domain=<appDomain>), which must not hide this origin's own.
    for (const name of [PREVIEW_COOKIE, PREVIEW_EMBED_COOKIE]) {
      for (const token of readCookies(req.headers.cookie, name).slice(0, 4)) {
        const grant = await this.#o.tokens.verify(token, "preview-session", project);
        if (grant) return this.#isMember(grant.userId, project.orgId);
      }
    }
    return false;
  }

  /** Membership, cached for a few seconds so a page with 200 assets does not ask 200 times. */
  async #isMember(userId: string, orgId: string): Promise<boolean> {
    const key = `${userId}:${orgId}`;
    const cached = this.#members.get(key);
    if (cached && Date.now() - cached.at < MEMBERSHIP_TTL_MS) return cached.ok;
    const [row] = await this.#o.database.db
      .select({ role: memberships.role })
      .from(memberships)
      .where(and(eq(memberships.userId, userId), eq(memberships.orgId, orgId)));
    if (this.#members.size > 10_000) this.#members.clear();
    this.#members.set(key, { ok: row !== undefined, at: Date.now() });
    return row !== undefined;
  }

  /** Drops cached host lookups (a project or org was deleted, so its host must stop resolving at once). */
  invalidate(): void {
    this.#projects.clear();
  }

  forgetProject(): void {
    this.invalidate();
  }

  forgetOrg(): void {
    this.invalidate();
  }

  async #lookup(address: PreviewAddress): Promise<PreviewProject | undefined> {
    const key = `${address.projectSlug}--${address.orgSlug}`;
    const cached = this.#projects.get(key);
    if (cached && Date.now() - cached.at < LOOKUP_TTL_MS) return cached.project;
    const project = await this.#query(address);
    if (this.#projects.size > 10_000) this.#projects.clear();
    this.#projects.set(key, { project, at: Date.now() });
    return project;
  }

  async #query(address: PreviewAddress): Promise<PreviewProject | undefined> {
    const [org] = await this.#o.database.db.select().from(orgs).where(eq(orgs.slug, address.orgSlug));
    if (!org) return undefined;
    const [row] = await this.#o.database.tenant(org.schemaName, (tx) =>
      tx.select().from(projects).where(eq(projects.slug, address.projectSlug)),
    );
    if (!row) return undefined;
    return {
      orgId: org.id,
      orgSlug: org.slug,
      schemaName: org.schemaName,
      projectId: row.id,
      projectSlug: row.slug,
      name: row.name,
      template: row.template,
      previewPublic: row.previewPublic,
    };
  }
}

function send(res: ServerResponse, status: number, html: string): void {
  if (res.headersSent) return void res.destroy();
  res.writeHead(status, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
  res.end(html);
}

/** Every value the Cookie header carries for `name`, in the order the browser sent them. */
export function readCookies(header: string | undefined, name: string): string[] {
  if (!header) return [];
  const values: string[] = [];
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) values.push(part.slice(eq + 1).trim());
  }
  return values;
}

/**
 * Where a hand-off may send the browser: `next` resolved against the preview's own origin, and only if it
 * stays there; else the origin's root. Resolving with the URL parser is what the browser will do with the
 * Location (tabs and newlines dropped, `\` read as `/`), so no spelling of another origin (`/%09/evil`,
 * `/\\evil`, `//evil`) gets through. What goes back is the parsed path, query and fragment — serialised,
 * so no character that is invalid in a header — as a path that starts with exactly one `/`: relative, so
 * the browser stays on the origin (and port) it used, and never a `//host` reference.
 */
export function sameOriginTarget(next: string | null, origin: string): string {
  const home = new URL("/", origin);
  if (!next || next.length > 2000 || !next.startsWith("/")) return "/";
  let target: URL;
  try {
    target = new URL(next, home);
  } catch {
    return "/";
  }
  if (target.origin !== home.origin) return "/";
  return `/${target.pathname.replace(/^\/+/, "")}${target.search}${target.hash}`;
}
