import { CSRF_HEADER, JOB_TOKEN_PREFIX } from "@kiln/protocol";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { BadRequestError, ForbiddenError, UnauthenticatedError } from "../errors/errors.ts";
import type { Principal } from "../http/principal.ts";
import type { ApiTokenService } from "./api-tokens.ts";
import { type SessionCookieNames, sessionCookieNames } from "./cookies.ts";
import type { AuthService } from "./service.ts";
import { API_TOKEN_PREFIX } from "./tokens.ts";
import { duplicatedCookies, expireTossedCookies } from "./tossed-cookies.ts";

declare module "fastify" {
  interface FastifyContextConfig {
    /** `required` (the default under /api), `optional`, or `none` (the default elsewhere; ignores credentials). */
    auth?: AuthMode;
    /**
     * A Bearer-token API for programs (the model proxy under /v1): cookies are ignored, so a browser's
     * ambient session can never be used there and no CSRF check is needed; `x-api-key` is read as a
     * bearer token too, because that is where Anthropic's client puts it.
     */
    tokenOnly?: boolean;
    /**
     * The route reads its caller's credentials itself (git over HTTP, git/: Basic credentials, job tokens, a
     * challenge git understands). The hook leaves it alone and never reads a cookie for it, so no CSRF
     * check applies; `auth` still says what the OpenAPI document shows.
     */
    ownAuth?: boolean;
  }
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

export type AuthMode = "required" | "optional" | "none";

/** The one rule for what a route asks of its caller; the hook enforces it and the OpenAPI document shows it. */
export function authModeOf(url: string, config: { auth?: AuthMode } | undefined): AuthMode {
  // Secure by default: every /api route needs a caller unless it says otherwise.
  return config?.auth ?? (url.startsWith("/api/") ? "required" : "none");
}

export function isUnsafe(method: string): boolean {
  return !SAFE_METHODS.has(method);
}

/**
 * Resolves the caller before the body is parsed, so unauthenticated requests cost nothing, and enforces
 * CSRF for cookie-authenticated unsafe requests. Bearer credentials are not sent by browsers on their own,
 * so they need no CSRF token.
 */
export function installAuthHook(
  app: FastifyInstance,
  auth: AuthService,
  apiTokens: ApiTokenService,
  options: { secureCookies: boolean },
): void {
  const names = sessionCookieNames(options.secureCookies);
  const sessionNames = [names.access, names.refresh, names.csrf];
  app.decorateRequest("principal", undefined);
  app.addHook("onRequest", async (request, reply) => {
    const url = request.routeOptions.url;
    if (!url) return; // no route: the not-found handler answers
    if (url.startsWith("/api/")) {
      const tossed = duplicatedCookies(request.headers.cookie, sessionNames);
      if (tossed.length > 0) {
        const pathname = request.url.split("?")[0]!;
        expireTossedCookies(reply, tossed, { host: request.headers.host, pathname }, options.secureCookies);
        throw new BadRequestError(
          "duplicate_cookies",
          `the request carries more than one ${tossed.join(", ")} cookie (set by another host of this site?); they were cleared, sign in again`,
          { cookies: tossed },
        );
      }
    }
    if (request.routeOptions.config?.ownAuth === true) return;
    const mode = authModeOf(url, request.routeOptions.config);
    if (mode === "none") return;
    const tokenOnly = request.routeOptions.config?.tokenOnly === true;
    // A running job's token (kiln_job_…) is no user's: token-only routes that take it check it themselves.
    if (tokenOnly && presentedToken(request)?.startsWith(JOB_TOKEN_PREFIX)) return;
    const principal = await resolve(request, auth, apiTokens, names, mode === "optional", tokenOnly);
    if (!principal) {
      if (mode === "required") throw new UnauthenticatedError();
      return;
    }
    if (principal.via === "cookie" && isUnsafe(request.method)) {
      const header = request.headers[CSRF_HEADER];
      const ok = auth.verifyCsrf(
        principal.sessionId!,
        request.cookies[names.csrf],
        typeof header === "string" ? header : undefined,
      );
      if (!ok) throw new ForbiddenError("csrf_failed", `missing or wrong ${CSRF_HEADER} header`);
    }
    request.principal = principal;
  });
}

async function resolve(
  request: FastifyRequest,
  auth: AuthService,
  apiTokens: ApiTokenService,
  names: SessionCookieNames,
  optional: boolean,
  tokenOnly = false,
): Promise<Principal | undefined> {
  const header = request.headers.authorization;
  const apiKey = request.headers["x-api-key"];
  if (tokenOnly && header === undefined && typeof apiKey === "string") {
    return apiKey.startsWith(API_TOKEN_PREFIX)
      ? apiTokens.authenticate(apiKey)
      : auth.authenticateAccessToken(apiKey, "bearer");
  }
  if (header !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) throw new UnauthenticatedError("token_invalid", "Authorization must be 'Bearer <token>'");
    const token = match[1]!;
    return token.startsWith(API_TOKEN_PREFIX)
      ? apiTokens.authenticate(token)
      : auth.authenticateAccessToken(token, "bearer");
  }
  if (tokenOnly) return undefined;
  const cookie = request.cookies[names.access];
  if (!cookie) return undefined;
  try {
    return await auth.authenticateAccessToken(cookie, "cookie");
  } catch (err) {
    // A stale cookie on an optional route (log-out, say) is the same as no cookie.
    if (optional) return undefined;
    throw err;
  }
}

/** The bearer token (or Anthropic-style x-api-key) a program sent, if any. */
export function presentedToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header === "string") return /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
  const apiKey = request.headers["x-api-key"];
  return typeof apiKey === "string" ? apiKey : undefined;
}
