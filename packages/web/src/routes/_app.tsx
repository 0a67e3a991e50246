import { createFileRoute, Outlet, redirect } from "@tanstack/react-router";
import { currentUser } from "../features/auth/session.ts";

/** Everything under here needs a session; without one the user logs in and comes back. */
export const Route = createFileRoute("/_app")({
  beforeLoad: async ({ context, location }) => {
    const me = await currentUser((q) => context.queryClient.ensureQueryData(q));
    if (!me) throw redirect({ to: "/login", search: { next: location.href } });
    return { me };
  },
  component: Outlet,
});
