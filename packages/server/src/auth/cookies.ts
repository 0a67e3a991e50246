import { ACCESS_COOKIE, CSRF_COOKIE, hostOnlyCookie, REFRESH_COOKIE } from "@kiln/protocol";
import type { FastifyReply } from "fastify";
import type { IssuedSession } from "./service.ts";

/** On http the refresh cookie only travels to the endpoints that use it. */
const REFRESH_PATH = "/api/auth";

export interface SessionCookieNames {
  access: string;
  refresh: string;
  csrf: string;
  refreshPath: string;
}

const PLAIN: SessionCookieNames = {
  access: ACCESS_COOKIE,
  refresh: REFRESH_COOKIE,
  csrf: CSRF_COOKIE,
  refreshPath: REFRESH_PATH,
};

/**
 * Over https the cookies are `__Host-` cookies: a browser keeps one only when it was set by this very host
 * with `Secure`, `Path=/` and no `Domain`, so a sibling subdomain (a preview on the same site) cannot plant
 * or shadow one (cookie tossing). The prefix requires `Path=/`, which the refresh cookie then has too:
 * being untossable matters more than keeping it off the other studio endpoints.
 */
const HOST_ONLY: SessionCookieNames = {
  access: hostOnlyCookie(ACCESS_COOKIE),
  refresh: hostOnlyCookie(REFRESH_COOKIE),
  csrf: hostOnlyCookie(CSRF_COOKIE),
  refreshPath: "/",
};

export function sessionCookieNames(secure: boolean): SessionCookieNames {
  return secure ? HOST_ONLY : PLAIN;
}

export function setSessionCookies(reply: FastifyReply, session: IssuedSession, secure: boolean): void {
  const names = sessionCookieNames(secure);
  const base = { sameSite: "lax", secure } as const;
  reply.setCookie(names.access, session.accessToken, {
    ...base,
    httpOnly: true,
    path: "/",
    expires: session.accessTokenExpiresAt,
  });
  reply.setCookie(names.refresh, session.refreshToken, {
    ...base,
    httpOnly: true,
    path: names.refreshPath,
    expires: session.refreshTokenExpiresAt,
  });
  // Readable by the studio's own script, which echoes it in the x-csrf-token header.
  reply.setCookie(names.csrf, session.csrfToken, {
    ...base,
    httpOnly: false,
    path: "/",
    expires: session.refreshTokenExpiresAt,
  });
}

export function clearSessionCookies(reply: FastifyReply, secure: boolean): void {
  const names = sessionCookieNames(secure);
  const base = { sameSite: "lax", secure } as const;
  reply.clearCookie(names.access, { ...base, httpOnly: true, path: "/" });
  reply.clearCookie(names.refresh, { ...base, httpOnly: true, path: names.refreshPath });
  reply.clearCookie(names.csrf, { ...base, path: "/" });
}
