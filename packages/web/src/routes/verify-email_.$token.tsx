import { useMutation, useQueryClient } from "@tanstack/react-query";
import { createFileRoute, Link } from "@tanstack/react-router";
import { api } from "../api/endpoints.ts";
import { describeError, isApiError } from "../api/errors.ts";
import { keys } from "../api/keys.ts";
import { AuthLayout } from "../features/auth/auth-layout.tsx";
import { Button } from "../ui/button.tsx";
import { ErrorState } from "../ui/states.tsx";
import { useTitle } from "../ui/use-title.ts";

/**
 * The link from the verification email. It works in any browser, signed in or not; confirming takes a
 * click, so a mail scanner that fetches the page does not spend the single-use link.
 */
export const Route = createFileRoute("/verify-email_/$token")({
  component: VerifyLinkPage,
});

function VerifyLinkPage() {
  const { token } = Route.useParams();
  const queryClient = useQueryClient();
  useTitle("Confirm your email");
  const confirm = useMutation({
    mutationFn: () => api.auth.verifyLink(token),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: keys.me }),
    // The page says what went wrong in place of the button.
    meta: { errorToast: false },
  });

  if (confirm.isSuccess) {
    return (
      <AuthLayout title="Email verified" subtitle={<>{confirm.data.email} is confirmed.</>}>
        <p className="mb-4 text-sm text-neutral-300">
          You can now accept invitations sent to this address and invite others.
        </p>
        <Link
          to="/"
          className="flex h-9 items-center justify-center rounded-md bg-accent-600 text-sm font-medium text-white hover:bg-accent-500"
        >
          Continue to Kiln
        </Link>
      </AuthLayout>
    );
  }
  if (confirm.isError) {
    const expired = isApiError(confirm.error, "verification_expired");
    return (
      <AuthLayout title="Confirm your email">
        <ErrorState
          title={expired ? "This link has expired" : "This link is not valid"}
          message={
            isApiError(confirm.error, "verification_invalid") || expired
              ? "It may have been used already, or replaced by a newer email. Sign in to send a new code."
              : describeError(confirm.error)
          }
        >
          <Link to="/verify-email" className="mt-2 text-sm text-accent-400 hover:underline">
            Send a new code
          </Link>
        </ErrorState>
      </AuthLayout>
    );
  }
  return (
    <AuthLayout title="Confirm your email" subtitle="One click proves this address is yours.">
      <Button
        variant="primary"
        size="md"
        className="w-full"
        loading={confirm.isPending}
        onClick={() => confirm.mutate()}
      >
        Confirm email address
      </Button>
    </AuthLayout>
  );
}
