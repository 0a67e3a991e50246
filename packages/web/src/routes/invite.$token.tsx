import { useQuery, useQueryClient } from "@tanstack/react-query";
import { createFileRoute, Link, useNavigate } from "@tanstack/react-router";
import { useState } from "react";
import { api } from "../api/endpoints.ts";
import { describeError, isApiError } from "../api/errors.ts";
import { keys } from "../api/keys.ts";
import { meQuery } from "../api/queries.ts";
import { AuthLayout } from "../features/auth/auth-layout.tsx";
import { currentUser } from "../features/auth/session.ts";
import { Button } from "../ui/button.tsx";
import { LoadingBlock } from "../ui/spinner.tsx";
import { ErrorState } from "../ui/states.tsx";

/** An invitation link: what it offers, then accept (after logging in or signing up, if needed). */
export const Route = createFileRoute("/invite/$token")({
  beforeLoad: async ({ context }) => ({
    me: await currentUser((q) => context.queryClient.ensureQueryData(q)),
  }),
  component: InvitePage,
});

function InvitePage() {
  const { token } = Route.useParams();
  const { me } = Route.useRouteContext();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const preview = useQuery({
    queryKey: keys.invitation(token),
    queryFn: () => api.invitations.preview(token),
    retry: false,
  });
  const here = `/invite/${token}`;

  const accept = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await api.invitations.accept(token);
      await queryClient.fetchQuery({ ...meQuery, staleTime: 0 });
      await navigate({ to: "/$org", params: { org: preview.data!.orgSlug } });
    } catch (err) {
      setError(
        isApiError(err, "invitation_email_mismatch")
          ? `This invitation is for ${preview.data?.email}; you are signed in as ${me?.user.email}.`
          : isApiError(err, "email_not_verified")
            ? "Verify your email address first: only the owner of the invited address can join."
            : describeError(err),
      );
      setBusy(false);
    }
  };

  if (preview.isPending) return <LoadingBlock className="h-full" />;
  if (preview.isError) {
    return (
      <AuthLayout title="Invitation">
        <ErrorState
          title={
            isApiError(preview.error, "invitation_expired")
              ? "This invitation has expired"
              : "This invitation is not valid"
          }
          message={
            isApiError(preview.error, "invitation_not_found")
              ? "It may have been revoked or already used."
              : describeError(preview.error)
          }
        />
      </AuthLayout>
    );
  }
  const inv = preview.data;
  return (
    <AuthLayout title={`Join ${inv.orgName}`} subtitle={`You are invited as ${inv.role}.`}>
      <p className="mb-4 text-sm text-neutral-300">
        The invitation is for <strong className="text-neutral-100">{inv.email}</strong>.
      </p>
      {error && (
        <p role="alert" className="mb-3 text-xs text-red-300">
          {error}
        </p>
      )}
      {me && !me.user.emailVerified ? (
        <div className="flex flex-col gap-3">
          <p
            role="alert"
            className="rounded-md border border-amber-500/30 bg-amber-500/10 px-3 py-2 text-xs text-amber-200"
          >
            Verify your email address first. An invitation can only be accepted from the address it was sent
            to, once you have entered the code mailed to {me.user.email}.
          </p>
          <Link
            to="/verify-email"
            search={{ next: here }}
            className="flex h-9 items-center justify-center rounded-md bg-accent-600 text-sm font-medium text-white hover:bg-accent-500"
          >
            Verify my email
          </Link>
        </div>
      ) : me ? (
        <Button variant="primary" size="md" className="w-full" loading={busy} onClick={() => void accept()}>
          Accept and join
        </Button>
      ) : (
        <div className="flex flex-col gap-2">
          <Link
            to="/signup"
            search={{ next: here }}
            className="flex h-9 items-center justify-center rounded-md bg-accent-600 text-sm font-medium text-white hover:bg-accent-500"
          >
            Create an account to join
          </Link>
          <Link
            to="/login"
            search={{ next: here }}
            className="flex h-9 items-center justify-center rounded-md border border-line text-sm text-neutral-200 hover:bg-tint/5"
          >
            I already have an account
          </Link>
        </div>
      )}
    </AuthLayout>
  );
}
