import { isIP } from "node:net";
import type { FastifyReply } from "fastify";
import { siteOf } from "../site.ts";

/**
 * The names among `names` that the Cookie header carries more than once. A browser sends two cookies of
 * one name when another host of the site set one with `Domain=` or a longer `Path` (cookie tossing); the
 * server would read whichever comes first, which is the attacker's: refuse instead of guessing.
 */
export function duplicatedCookies(header: string | undefined, names: readonly string[]): string[] {
  if (!header) return [];
  const seen = new Map<string, number>();
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    const name = (eq < 0 ? part : part.slice(0, eq)).trim();
    if (names.includes(name)) seen.set(name, (seen.get(name) ?? 0) + 1);
  }
  return [...seen].filter(([, n]) => n > 1).map(([name]) => name);
}

/** A cookie of each of these paths is sent with a request for `pathname` (RFC 6265 §5.1.4). */
export function cookiePathsFor(pathname: string, max = 24): string[] {
  const paths = new Set(["/"]);
  for (let i = 1; i < pathname.length; i++) {
    if (pathname[i] === "/") paths.add(pathname.slice(0, i)).add(pathname.slice(0, i + 1));
  }
  paths.add(pathname);
  return [...paths].slice(0, max);
}

/**
 * Expires every cookie of these names that this request could have carried: each path that matches the
 * request and each domain from the host up to its site, plus the host-only one. The browser then holds
 * none of them and the studio signs in afresh, instead of failing on every request.
 */
export function expireTossedCookies(
  reply: FastifyReply,
  names: readonly string[],
  request: { host: string | undefined; pathname: string },
  secure: boolean,
): void {
  const hostname = (request.host ?? "")
    .replace(/:\d+$/, "")
    .replace(/^\[(.*)\]$/, "$1")
    .toLowerCase();
  const domains: Array<string | undefined> = [undefined];
  // A Host that is not a plain name (an IP address takes no Domain; junk would fail to serialise) gets
  // the host-only clear alone.
  if (/^[a-z0-9-]+(\.[a-z0-9-]+)*$/.test(hostname) && isIP(hostname) === 0) {
    const labels = hostname.split(".");
    const site = siteOf(hostname);
    const keep = site ? site.split(".").length : labels.length;
    for (let i = 0; i <= labels.length - keep; i++) domains.push(labels.slice(i).join("."));
  }
  for (const name of names) {
    // The prefix only allows the one host-only cookie at Path=/, so that is the only one there can be.
    if (name.startsWith("__Host-")) {
      reply.clearCookie(name, { path: "/", secure: true });
      continue;
    }
    for (const domain of domains)
      for (const path of cookiePathsFor(request.pathname))
        reply.clearCookie(name, { path, secure, ...(domain ? { domain } : {}) });
  }
}
