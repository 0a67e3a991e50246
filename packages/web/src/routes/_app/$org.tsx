import type { Me } from "@kiln/protocol";
import { useQuery } from "@tanstack/react-query";
import { createFileRoute, type ErrorComponentProps, notFound, Outlet } from "@tanstack/react-router";
import { useEffect } from "react";
import { describeError, isApiError } from "../../api/errors.ts";
import { meQuery, orgAccessQuery } from "../../api/queries.ts";
import { rememberOrg } from "../../features/auth/session.ts";
import { SsoRequired } from "../../features/orgs/sso-required.tsx";
import { ErrorState } from "../../ui/states.tsx";
import { NotFound } from "../__root.tsx";

/**
 * An org the user does not belong to is "not found", exactly like one that does not exist: the URL must
 * not reveal which orgs exist. An org that asks this session to sign in through its provider instead
 * (`sso_required`) shows the way in, here for every page of the org.
 */
export const Route = createFileRoute("/_app/$org")({
  beforeLoad: async ({ context, params }) => {
    const find = (me: Me) => me.orgs.find((o) => o.slug === params.org);
    // Joined a moment ago (an accepted invitation, another tab)? Ask again before saying no.
    const membership =
      find(context.me) ?? find(await context.queryClient.fetchQuery({ ...meQuery, staleTime: 0 }));
    if (!membership) throw notFound();
    // Asked before any page's loader runs, so a refused session never sees a page fail piece by piece.
    try {
      await context.queryClient.ensureQueryData(orgAccessQuery(params.org));
    } catch (err) {
      if (isApiError(err, "sso_required")) throw err;
      if (isApiError(err) && err.status === 404) throw notFound();
      // Anything else (the network): the pages show their own errors.
    }
    return { membership };
  },
  notFoundComponent: NotFound,
  errorComponent: OrgError,
  component: OrgLayout,
});

/** The provider `sso_required` names, when the error is that refusal. */
function ssoProvider(err: unknown): string | null {
  if (!isApiError(err, "sso_required")) return null;
  const provider = (err.details as { provider?: unknown } | undefined)?.provider;
  return typeof provider === "string" ? provider : null;
}

function OrgError({ error, reset }: ErrorComponentProps) {
  const { org } = Route.useParams();
  const provider = ssoProvider(error);
  if (provider) return <SsoRequired org={org} provider={provider} />;
  return <ErrorState className="h-full" message={describeError(error)} onRetry={reset} />;
}

function OrgLayout() {
  const { org } = Route.useParams();
  // Refused after the page opened (the org was bound meanwhile; any read of it asks the gate again).
  const provider = ssoProvider(useQuery(orgAccessQuery(org)).error);
  useEffect(() => rememberOrg(org), [org]);
  if (provider) return <SsoRequired org={org} provider={provider} />;
  return <Outlet />;
}
