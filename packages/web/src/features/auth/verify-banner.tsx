import { Link, useRouterState } from "@tanstack/react-router";
import { useMe } from "./use-me.ts";

/** Under the header while the signed-in user's address is unproven: what waits for it, and where to go. */
export function VerifyBanner() {
  const me = useMe();
  const here = useRouterState({ select: (s) => s.location.href });
  if (me.user.emailVerified) return null;
  return (
    <div
      role="status"
      className="flex flex-wrap items-center gap-x-3 gap-y-1 border-b border-amber-500/25 bg-amber-500/10 px-3 py-2 text-xs text-amber-200 sm:px-4"
    >
      <span>
        Verify <strong className="font-medium text-amber-100">{me.user.email}</strong> to join teams and
        invite people.
      </span>
      <Link
        to="/verify-email"
        search={{ next: here }}
        className="font-medium text-amber-100 underline underline-offset-2 hover:text-neutral-50"
      >
        Enter the code
      </Link>
    </div>
  );
}
