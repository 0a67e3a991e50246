import { createFileRoute, redirect } from "@tanstack/react-router";
import { currentUser, homeOrg } from "../features/auth/session.ts";

/** `/` only decides where to go: the user's last org, or the log-in page. */
export const Route = createFileRoute("/")({
  beforeLoad: async ({ context }) => {
    const me = await currentUser((q) => context.queryClient.ensureQueryData(q));
    if (!me) throw redirect({ to: "/login" });
    const org = homeOrg(me);
    if (org) throw redirect({ to: "/$org", params: { org } });
  },
  component: () => null,
});
