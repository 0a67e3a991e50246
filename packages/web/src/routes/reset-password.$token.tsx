import { useMutation, useQueryClient } from "@tanstack/react-query";
import { createFileRoute, Link, useNavigate } from "@tanstack/react-router";
import { type FormEvent, useState } from "react";
import { api } from "../api/endpoints.ts";
import { describeError, isApiError } from "../api/errors.ts";
import { errorsFromApi, type FormErrors } from "../api/form-errors.ts";
import { meQuery } from "../api/queries.ts";
import { AuthLayout } from "../features/auth/auth-layout.tsx";
import { homeOrg } from "../features/auth/session.ts";
import { Button } from "../ui/button.tsx";
import { Field, Input } from "../ui/input.tsx";
import { ErrorState } from "../ui/states.tsx";
import { useTitle } from "../ui/use-title.ts";

/**
 * The link from the reset email: choose a new password. Nothing is spent until the form is sent, so a
 * mail scanner opening the link does not use it up. Success signs in here and everywhere else out.
 */
export const Route = createFileRoute("/reset-password/$token")({
  component: ResetPasswordPage,
});

function ResetPasswordPage() {
  const { token } = Route.useParams();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [password, setPassword] = useState("");
  const [confirm, setConfirm] = useState("");
  const [mismatch, setMismatch] = useState(false);
  useTitle("Choose a new password");
  const reset = useMutation({
    mutationFn: () => api.auth.resetPassword({ token, password }),
    onSuccess: async () => {
      queryClient.clear();
      const me = await queryClient.fetchQuery(meQuery);
      const org = homeOrg(me);
      await navigate(org ? { to: "/$org", params: { org }, replace: true } : { to: "/", replace: true });
    },
    meta: { errorToast: false },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setMismatch(password !== confirm);
    if (password === confirm) reset.mutate();
  };

  const dead =
    reset.isError && (isApiError(reset.error, "reset_invalid") || isApiError(reset.error, "reset_expired"));
  if (dead) {
    return (
      <AuthLayout title="Choose a new password">
        <ErrorState
          title={
            isApiError(reset.error, "reset_expired") ? "This link has expired" : "This link is not valid"
          }
          message="Reset links work once, for 30 minutes, and only the newest one works. Ask for a new one."
        >
          <Link to="/forgot-password" className="mt-2 text-sm text-accent-400 hover:underline">
            Send a new link
          </Link>
        </ErrorState>
      </AuthLayout>
    );
  }
  const errors: FormErrors = reset.isError ? errorsFromApi(reset.error) : { fields: {} };
  return (
    <AuthLayout title="Choose a new password" subtitle="This signs your account out on every other device.">
      <form onSubmit={submit} className="flex flex-col gap-4" noValidate>
        <Field label="New password" hint="At least 8 characters." error={errors.fields.password}>
          {(id) => (
            <Input
              id={id}
              type="password"
              required
              minLength={8}
              value={password}
              onChange={(e) => setPassword(e.target.value)}
              autoComplete="new-password"
              autoFocus
            />
          )}
        </Field>
        <Field label="Repeat it" error={mismatch ? "The two passwords differ." : undefined}>
          {(id) => (
            <Input
              id={id}
              type="password"
              required
              value={confirm}
              onChange={(e) => setConfirm(e.target.value)}
              autoComplete="new-password"
            />
          )}
        </Field>
        {reset.isError && !errors.fields.password && (
          <p
            role="alert"
            className="rounded-md border border-red-500/30 bg-red-500/10 px-3 py-2 text-xs text-red-300"
          >
            {isApiError(reset.error, "rate_limited")
              ? "Too many tries. Wait a while and try again."
              : describeError(reset.error)}
          </p>
        )}
        <Button type="submit" variant="primary" size="md" loading={reset.isPending} className="w-full">
          Set new password
        </Button>
      </form>
    </AuthLayout>
  );
}
