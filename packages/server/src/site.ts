import { getDomain } from "tldts";

/**
 * The registrable domain ("site") of a host by the Public Suffix List, its private section included as
 * browsers do (so a preview domain listed there is a site per preview). Undefined for IP addresses,
 * `localhost` and public suffixes themselves: a cookie cannot be scoped to a parent domain of those.
 */
export function siteOf(host: string): string | undefined {
  const name = host
    .replace(/^\[(.*)\]$/, "$1")
    .toLowerCase()
    .replace(/\.$/, "");
  return getDomain(name, { allowPrivateDomains: true }) ?? undefined;
}

/**
 * The site the studio and its previews have in common, if any. A preview on the studio's site can set
 * cookies with `Domain=<site>` that the studio's browser then sends back (cookie tossing), and counts as
 * same-site for SameSite cookies; previews on a domain of their own can do neither.
 */
export function sharedPreviewSite(publicUrl: string, appDomain: string): string | undefined {
  const studio = siteOf(new URL(publicUrl).hostname);
  // Any preview host stands for all of them: they differ only in the first label.
  const preview = siteOf(`p--o.${appDomain}`);
  return studio !== undefined && studio === preview ? studio : undefined;
}
