import { Resolver } from "node:dns/promises";
import { DOMAIN_CHALLENGE_LABEL } from "@kiln/protocol";

/** What a TXT lookup showed about a domain's token. */
export type ChallengeResult = { ok: true } | { ok: false; reason: string };

/** Finds the domain's challenge record: `_kiln-challenge.<hostname>` TXT holding the token. */
export type ChallengeLookup = (hostname: string, token: string) => Promise<ChallengeResult>;

/**
 * TXT lookups through the operator's resolvers (`KILN_DNS_SERVERS`, `ip` or `ip:port` each; the system's when
 * empty). Only the operator picks where the query goes; a tenant picks only the name asked about, and the
 * answer is compared with the token, never followed anywhere.
 */
export function dnsChallengeLookup(servers: string[]): ChallengeLookup {
  return async (hostname, token) => {
    // A resolver per lookup: `setServers` is the resolver's own state, and a lookup is a user's click.
    const resolver = new Resolver({ timeout: 3000, tries: 2 });
    if (servers.length > 0) resolver.setServers(servers);
    const name = `${DOMAIN_CHALLENGE_LABEL}.${hostname}`;
    let records: string[][];
    try {
      records = await resolver.resolveTxt(name);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === "ENOTFOUND" || code === "ENODATA")
        return { ok: false, reason: `no TXT record at ${name} yet (DNS changes can take a while to show)` };
      return {
        ok: false,
        reason: `the DNS lookup of ${name} failed (${code ?? "error"}); try again shortly`,
      };
    }
    // A long TXT value comes in chunks of 255 bytes, which together are the one value.
    const values = records.map((chunks) => chunks.join(""));
    if (values.includes(token)) return { ok: true };
    return {
      ok: false,
      reason: `the TXT record at ${name} does not hold this domain's token (found ${values.length} other value${values.length === 1 ? "" : "s"})`,
    };
  };
}
