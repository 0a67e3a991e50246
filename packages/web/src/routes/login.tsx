import { createFileRoute, Link, redirect } from "@tanstack/react-router";
import { AuthForm } from "../features/auth/auth-form.tsx";
import { AuthLayout } from "../features/auth/auth-layout.tsx";
import { currentUser, homeOrg } from "../features/auth/session.ts";
import { SSO_ERRORS, SsoButtons } from "../features/auth/sso-buttons.tsx";

export const Route = createFileRoute("/login")({
  validateSearch: (search: Record<string, unknown>): { next?: string; sso_error?: string } => ({
    ...(typeof search.next === "string" ? { next: search.next } : {}),
    ...(typeof search.sso_error === "string" ? { sso_error: search.sso_error.slice(0, 40) } : {}),
  }),
  beforeLoad: async ({ context }) => {
    const me = await currentUser((q) => context.queryClient.ensureQueryData(q));
    const org = me && homeOrg(me);
    if (org) throw redirect({ to: "/$org", params: { org } });
  },
  component: LoginPage,
});

function LoginPage() {
  const { next, sso_error } = Route.useSearch();
  return (
    <AuthLayout
      title="Log in to Kiln"
      subtitle="Build apps by describing them."
      footer={
        <>
          New here?{" "}
          <Link to="/signup" search={next ? { next } : {}} className="text-accent-400 hover:underline">
            Create an account
          </Link>
        </>
      }
    >
      {sso_error && (
        <p
          role="alert"
          className="mb-4 rounded-md border border-red-500/30 bg-red-500/10 px-3 py-2 text-xs text-red-300"
        >
          {SSO_ERRORS[sso_error] ?? "Single sign-on failed. Try again."}
        </p>
      )}
      <SsoButtons next={next} />
      <AuthForm mode="login" next={next} />
    </AuthLayout>
  );
}
