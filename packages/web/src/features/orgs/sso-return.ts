import { safeNext } from "../auth/session.ts";

/**
 * Where the provider's sign-in brings the user back: the page of the org they were opening (path, query and
 * hash), or the org's home when that is not a plain same-origin path inside the org. The server checks
 * `next` again; this keeps the studio from ever asking for somewhere else.
 */
export function ssoReturnPath(org: string, href: string): string {
  const home = `/${encodeURIComponent(org)}`;
  const next = safeNext(href);
  // The server refuses these too (a backslash is a host separator to some browsers; control characters).
  if (!next || [...next].some((ch) => ch === "\\" || ch.charCodeAt(0) < 0x20)) return home;
  const path = next.split(/[?#]/, 1)[0] ?? "";
  return path === home || path.startsWith(`${home}/`) ? next : home;
}
