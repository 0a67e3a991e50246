import { createFileRoute, Link, redirect } from "@tanstack/react-router";
import { AuthForm } from "../features/auth/auth-form.tsx";
import { AuthLayout } from "../features/auth/auth-layout.tsx";
import { currentUser, homeOrg } from "../features/auth/session.ts";
import { SsoButtons } from "../features/auth/sso-buttons.tsx";

export const Route = createFileRoute("/signup")({
  validateSearch: (search: Record<string, unknown>): { next?: string } =>
    typeof search.next === "string" ? { next: search.next } : {},
  beforeLoad: async ({ context }) => {
    const me = await currentUser((q) => context.queryClient.ensureQueryData(q));
    const org = me && homeOrg(me);
    if (org) throw redirect({ to: "/$org", params: { org } });
  },
  component: SignupPage,
});

function SignupPage() {
  const { next } = Route.useSearch();
  return (
    <AuthLayout
      title="Create your Kiln account"
      subtitle="Your own studio for building web apps with an AI agent."
      footer={
        <>
          Already have an account?{" "}
          <Link to="/login" search={next ? { next } : {}} className="text-accent-400 hover:underline">
            Log in
          </Link>
        </>
      }
    >
      <SsoButtons next={next} />
      <AuthForm mode="signup" next={next} />
    </AuthLayout>
  );
}
