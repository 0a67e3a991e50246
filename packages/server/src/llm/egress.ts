import { type AddressPolicy, allowEntryForUrl, EgressRefusedError, EgressUnresolvedError } from "@kiln/agent";
import { KilnError } from "../errors/errors.ts";

/**
 * The server's side of the egress address policy (@kiln/agent net/): org admins choose their providers'
 * URLs and the server calls them, so every such URL is held to the policy when it is saved (a clear 4xx
 * now) and again at each connection (egress-fetch.ts: a name that later resolves elsewhere, DNS rebinding,
 * fails that call cleanly). The operator's own providers (env) are exempt for their own host and port only.
 */

const SAVE_DNS_WAIT_MS = 3_000;

export class EgressForbiddenError extends KilnError {
  constructor(err: EgressRefusedError) {
    super(
      "egress_refused",
      `${err.message}; an instance admin can exempt an address with KILN_EGRESS_ALLOW`,
      { cause: err, details: { host: err.host } },
    );
  }
}

/**
 * Refuses a URL whose host is, or now resolves to, an address the policy refuses. A name that does not
 * resolve (yet, or within a few seconds) passes: the check at connect time still holds.
 */
export async function assertEgressAllowed(policy: AddressPolicy, url: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const slowDns = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, SAVE_DNS_WAIT_MS);
  });
  try {
    await Promise.race([policy.pin(new URL(url)), slowDns]);
  } catch (err) {
    if (err instanceof EgressRefusedError) throw new EgressForbiddenError(err);
    if (!(err instanceof EgressUnresolvedError)) throw err;
  } finally {
    clearTimeout(timer);
  }
}

/** The policy for the instance's own providers: their configured hosts and ports are the operator's word. */
export function instancePolicy(policy: AddressPolicy, baseUrls: readonly string[]): AddressPolicy {
  return policy.with(baseUrls.map((u) => allowEntryForUrl(new URL(u))));
}

/** The EgressRefusedError somewhere in an error's cause chain (the AI SDK wraps what fetch throws). */
export function egressRefusal(err: unknown): EgressRefusedError | undefined {
  for (let e = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof EgressRefusedError) return e;
  }
  return undefined;
}
