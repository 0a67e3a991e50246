import type { FastifyReply } from "fastify";
import type { IssuedSession } from "./service.ts";

export const ACCESS_COOKIE = "kiln_at";
export const REFRESH_COOKIE = "kiln_rt";
export const CSRF_COOKIE = "kiln_csrf";
export const CSRF_HEADER = "x-csrf-token";
/** The refresh cookie only travels to the endpoints that use it. */
const REFRESH_PATH = "/api/auth";

export function setSessionCookies(reply: FastifyReply, session: IssuedSession, secure: boolean): void {
  const base = { sameSite: "lax", secure } as const;
  reply.setCookie(ACCESS_COOKIE, session.accessToken, {
    ...base,
    httpOnly: true,
    path: "/",
    expires: session.accessTokenExpiresAt,
  });
  reply.setCookie(REFRESH_COOKIE, session.refreshToken, {
    ...base,
    httpOnly: true,
    path: REFRESH_PATH,
    expires: session.refreshTokenExpiresAt,
  });
  // Readable by the studio's own script, which echoes it in the x-csrf-token header.
  reply.setCookie(CSRF_COOKIE, session.csrfToken, {
    ...base,
    httpOnly: false,
    path: "/",
    expires: session.refreshTokenExpiresAt,
  });
}

export function clearSessionCookies(reply: FastifyReply, secure: boolean): void {
  const base = { sameSite: "lax", secure } as const;
  reply.clearCookie(ACCESS_COOKIE, { ...base, httpOnly: true, path: "/" });
  reply.clearCookie(REFRESH_COOKIE, { ...base, httpOnly: true, path: REFRESH_PATH });
  reply.clearCookie(CSRF_COOKIE, { ...base, path: "/" });
}
