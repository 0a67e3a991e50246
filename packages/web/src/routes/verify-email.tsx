import { createFileRoute, redirect, useNavigate } from "@tanstack/react-router";
import { AuthLayout } from "../features/auth/auth-layout.tsx";
import { currentUser, homeOrg, safeNext } from "../features/auth/session.ts";
import { useMe } from "../features/auth/use-me.ts";
import { VerifyEmailForm } from "../features/auth/verify-email-form.tsx";
import { useTitle } from "../ui/use-title.ts";

/** After sign-up (and from the banner): the code from the verification email. */
export const Route = createFileRoute("/verify-email")({
  validateSearch: (search: Record<string, unknown>): { next?: string } =>
    typeof search.next === "string" ? { next: search.next } : {},
  beforeLoad: async ({ context, location, search }) => {
    const me = await currentUser((q) => context.queryClient.ensureQueryData(q));
    if (!me) throw redirect({ to: "/login", search: { next: location.href } });
    if (me.user.emailVerified) {
      const target = safeNext(search.next);
      if (target) throw redirect({ href: target });
      const org = homeOrg(me);
      throw redirect(org ? { to: "/$org", params: { org } } : { to: "/" });
    }
  },
  component: VerifyEmailPage,
});

function VerifyEmailPage() {
  const { next } = Route.useSearch();
  const me = useMe();
  const navigate = useNavigate();
  useTitle("Verify your email");
  const org = homeOrg(me);
  const target = safeNext(next);
  const onward = async () => {
    if (target) await navigate({ href: target, replace: true });
    else await navigate(org ? { to: "/$org", params: { org }, replace: true } : { to: "/", replace: true });
  };
  return (
    <AuthLayout
      title="Check your email"
      subtitle={
        <>
          We sent a six-digit code to <strong className="text-neutral-200">{me.user.email}</strong>. Enter it
          here, or open the link in the email.
        </>
      }
      footer={
        <div className="flex flex-col gap-1">
          <button type="button" onClick={() => void onward()} className="text-accent-400 hover:underline">
            Skip for now
          </button>
          <span className="text-xs text-neutral-500">
            Your own projects work right away; joining a team and inviting people wait for this.
          </span>
        </div>
      }
    >
      <VerifyEmailForm onVerified={onward} />
    </AuthLayout>
  );
}
