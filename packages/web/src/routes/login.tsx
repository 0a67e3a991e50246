import { createFileRoute, Link, redirect } from "@tanstack/react-router";
import { AuthForm } from "../features/auth/auth-form.tsx";
import { AuthLayout } from "../features/auth/auth-layout.tsx";
import { currentUser, homeOrg } from "../features/auth/session.ts";

export const Route = createFileRoute("/login")({
  validateSearch: (search: Record<string, unknown>): { next?: string } =>
    typeof search.next === "string" ? { next: search.next } : {},
  beforeLoad: async ({ context }) => {
    const me = await currentUser((q) => context.queryClient.ensureQueryData(q));
    const org = me && homeOrg(me);
    if (org) throw redirect({ to: "/$org", params: { org } });
  },
  component: LoginPage,
});

function LoginPage() {
  const { next } = Route.useSearch();
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
      <AuthForm mode="login" next={next} />
    </AuthLayout>
  );
}
