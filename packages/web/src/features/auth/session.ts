import type { Me } from "@kiln/protocol";
import { maybeSignedIn } from "../../api/client.ts";
import { isApiError } from "../../api/errors.ts";
import { meQuery } from "../../api/queries.ts";

/**
 * The signed-in user, or null when there is no session (any other failure is thrown). A browser without
 * the session's CSRF cookie has none: it does not ask.
 */
export async function currentUser(ensure: (q: typeof meQuery) => Promise<Me>): Promise<Me | null> {
  if (!maybeSignedIn()) return null;
  try {
    return await ensure(meQuery);
  } catch (err) {
    if (isApiError(err) && err.status === 401) return null;
    throw err;
  }
}

const LAST_ORG = "kiln.lastOrg";

export function rememberOrg(slug: string): void {
  try {
    localStorage.setItem(LAST_ORG, slug);
  } catch {
    // storage may be disabled; remembering is a nicety
  }
}

/** The org to land in: the one used last if the user still belongs to it, else their personal org. */
export function homeOrg(me: Me): string | undefined {
  let last: string | null = null;
  try {
    last = localStorage.getItem(LAST_ORG);
  } catch {
    last = null;
  }
  if (last && me.orgs.some((o) => o.slug === last)) return last;
  return (me.orgs.find((o) => o.personal) ?? me.orgs[0])?.slug;
}

/** Only same-origin paths may be returned to after logging in (no open redirect). */
export function safeNext(next: string | undefined): string | undefined {
  if (!next?.startsWith("/") || next.startsWith("//") || next.startsWith("/\\")) return undefined;
  return next;
}
