import type { Me } from "@kiln/protocol";
import { createFileRoute, notFound, Outlet } from "@tanstack/react-router";
import { useEffect } from "react";
import { meQuery } from "../../api/queries.ts";
import { rememberOrg } from "../../features/auth/session.ts";
import { NotFound } from "../__root.tsx";

/**
 * An org the user does not belong to is "not found", exactly like one that does not exist: the URL must
 * not reveal which orgs exist.
 */
export const Route = createFileRoute("/_app/$org")({
  beforeLoad: async ({ context, params }) => {
    const find = (me: Me) => me.orgs.find((o) => o.slug === params.org);
    // Joined a moment ago (an accepted invitation, another tab)? Ask again before saying no.
    const membership =
      find(context.me) ?? find(await context.queryClient.fetchQuery({ ...meQuery, staleTime: 0 }));
    if (!membership) throw notFound();
    return { membership };
  },
  notFoundComponent: NotFound,
  component: OrgLayout,
});

function OrgLayout() {
  const { org } = Route.useParams();
  useEffect(() => rememberOrg(org), [org]);
  return <Outlet />;
}
