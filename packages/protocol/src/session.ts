/**
 * The browser session's cookie and header names, shared by the server that sets them and the studio that
 * reads them. On plain http (the one-machine `localhost` set-up) the cookies carry these names; over https
 * each is prefixed with `__Host-` (see `hostOnlyCookie`).
 */
export const ACCESS_COOKIE = "kiln_at";
export const REFRESH_COOKIE = "kiln_rt";
/** Readable by the studio's own script, which echoes it in `CSRF_HEADER` on unsafe requests. */
export const CSRF_COOKIE = "kiln_csrf";
export const CSRF_HEADER = "x-csrf-token";

/**
 * A cookie's name over https: a browser keeps a `__Host-` cookie only when this very host set it with
 * `Secure`, `Path=/` and no `Domain`, so a sibling subdomain cannot plant or shadow it (cookie tossing).
 */
export function hostOnlyCookie(name: string): `__Host-${string}` {
  return `__Host-${name}`;
}
