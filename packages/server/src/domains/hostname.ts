import { isIP } from "node:net";
import { domainToASCII } from "node:url";
import { HOSTNAME_MAX_LENGTH } from "@kiln/protocol";
import { parse } from "tldts";
import { BadRequestError } from "../errors/errors.ts";
import { siteOf } from "../site.ts";

/** The names Kiln itself answers on: a custom domain may be none of them, under none, and on none's site. */
export interface ReservedNames {
  /** The studio's public URL (`KILN_PUBLIC_URL`). */
  publicUrl: string;
  /** Previews live under it (`KILN_APP_DOMAIN`). */
  appDomain: string;
  /** Published sites live under it (`KILN_PUBLISH_DOMAIN`). */
  publishDomain: string;
}

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * A hostname as a custom domain is stored and matched: lower case, ASCII (an internationalised name in its
 * `xn--` form), without a final dot. Anything that is not a registrable DNS name of someone's own is refused
 * with `hostname_invalid`: IP addresses, wildcards, public suffixes (`co.uk`, `github.io`), names under no
 * known suffix, and the studio's, the previews' and the published sites' names, their subdomains and any name
 * on their registrable domain (a page there could set cookies the studio or a preview receives).
 */
export function normalizeHostname(input: string, reserved: ReservedNames): string {
  const raw = input.trim().toLowerCase().replace(/\.$/, "");
  if (raw.includes("*")) throw invalid("a wildcard is not a hostname; add each name on its own");
  if (isIP(raw.replace(/^\[(.*)\]$/, "$1")) !== 0) throw invalid("an IP address cannot be a custom domain");
  if (/[/:@?#\s\\]/.test(raw)) throw invalid("give the hostname alone, without scheme, port or path");
  const name = domainToASCII(raw);
  if (!name) throw invalid("not a valid hostname");
  if (name.length > HOSTNAME_MAX_LENGTH)
    throw invalid(`a hostname is at most ${HOSTNAME_MAX_LENGTH} characters`);
  const labels = name.split(".");
  if (labels.length < 2) throw invalid("a custom domain has at least two labels, like shop.example.com");
  if (!labels.every((l) => LABEL.test(l)))
    throw invalid("each label is 1–63 letters, digits or hyphens, not starting or ending with a hyphen");
  const parsed = parse(name, { allowPrivateDomains: true });
  if (parsed.isIp) throw invalid("an IP address cannot be a custom domain");
  if (!parsed.isIcann && !parsed.isPrivate) throw invalid(`${name} is not under a known public suffix`);
  if (!parsed.domain) throw invalid(`${name} is a public suffix, not a domain of its own`);
  for (const own of ownNames(reserved))
    if (name === own || name.endsWith(`.${own}`)) throw invalid(`${name} is one of Kiln's own names`);
  const site = siteOf(name);
  if (site !== undefined && ownSites(reserved).has(site))
    throw invalid(`${name} shares the registrable domain ${site} with Kiln's own names`);
  return name;
}

/**
 * The hostname of a request's Host header in its stored form, or undefined when it cannot be a custom domain
 * at all (no dots, an IP, odd characters). Cheap: decides whether a request needs a lookup.
 */
export function hostOfRequest(host: string | undefined): string | undefined {
  if (!host || host.length > HOSTNAME_MAX_LENGTH + 7) return undefined;
  const name = host
    .toLowerCase()
    .replace(/:\d{1,5}$/, "")
    .replace(/\.$/, "");
  if (!name.includes(".") || isIP(name) !== 0 || name.startsWith("[")) return undefined;
  if (!name.split(".").every((l) => LABEL.test(l))) return undefined;
  return name;
}

function ownNames(r: ReservedNames): string[] {
  return [new URL(r.publicUrl).hostname.replace(/^\[(.*)\]$/, "$1"), r.appDomain, r.publishDomain].map((n) =>
    n.toLowerCase().replace(/\.$/, ""),
  );
}

function ownSites(r: ReservedNames): Set<string> {
  const sites = [
    siteOf(new URL(r.publicUrl).hostname),
    // Any preview or site host stands for all: they differ only in the first label.
    siteOf(`p--o.${r.appDomain}`),
    siteOf(`p--o.${r.publishDomain}`),
  ];
  return new Set(sites.filter((s): s is string => s !== undefined));
}

function invalid(message: string): BadRequestError {
  return new BadRequestError("hostname_invalid", message);
}
