import { useMutation } from "@tanstack/react-query";
import { createFileRoute, Link } from "@tanstack/react-router";
import { type FormEvent, useState } from "react";
import { api } from "../api/endpoints.ts";
import { isApiError } from "../api/errors.ts";
import { errorsFromApi, type FormErrors } from "../api/form-errors.ts";
import { AuthLayout } from "../features/auth/auth-layout.tsx";
import { Button } from "../ui/button.tsx";
import { Field, Input } from "../ui/input.tsx";
import { useTitle } from "../ui/use-title.ts";

/** "Forgot password?": mails a reset link. The answer is the same whether or not the address has an account. */
export const Route = createFileRoute("/forgot-password")({
  validateSearch: (search: Record<string, unknown>): { email?: string } =>
    typeof search.email === "string" ? { email: search.email.slice(0, 254) } : {},
  component: ForgotPasswordPage,
});

function ForgotPasswordPage() {
  const search = Route.useSearch();
  const [email, setEmail] = useState(search.email ?? "");
  useTitle("Reset your password");
  const request = useMutation({
    mutationFn: () => api.auth.requestPasswordReset(email.trim()),
    meta: { errorToast: false },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    request.mutate();
  };

  if (request.isSuccess) {
    return (
      <AuthLayout title="Check your email" footer={<BackToLogin />}>
        <p className="text-sm text-neutral-300">
          If a verified Kiln account uses <strong className="text-neutral-100">{request.data.email}</strong>,
          a link to choose a new password is on its way. It works once, for {request.data.expiresInMinutes}{" "}
          minutes.
        </p>
        <p className="mt-3 text-xs text-neutral-400">
          No mail? Check the spam folder, or the address you signed up with. An account whose address was
          never confirmed cannot be reset: create a new one.
        </p>
      </AuthLayout>
    );
  }
  const errors: FormErrors = request.isError ? errorsFromApi(request.error) : { fields: {} };
  const limited = request.isError && isApiError(request.error, "rate_limited");
  return (
    <AuthLayout
      title="Reset your password"
      subtitle="We'll email you a link to choose a new one."
      footer={<BackToLogin />}
    >
      <form onSubmit={submit} className="flex flex-col gap-4" noValidate>
        <Field label="Email" error={errors.fields.email}>
          {(id) => (
            <Input
              id={id}
              type="email"
              required
              value={email}
              onChange={(e) => setEmail(e.target.value)}
              autoComplete="email"
              autoFocus
              placeholder="you@example.com"
            />
          )}
        </Field>
        {(limited || (request.isError && !errors.fields.email)) && (
          <p
            role="alert"
            className="rounded-md border border-red-500/30 bg-red-500/10 px-3 py-2 text-xs text-red-300"
          >
            {limited
              ? "Too many requests. Wait a while and try again."
              : (errors.form ?? "Something went wrong.")}
          </p>
        )}
        <Button type="submit" variant="primary" size="md" loading={request.isPending} className="w-full">
          Send reset link
        </Button>
      </form>
    </AuthLayout>
  );
}

function BackToLogin() {
  return (
    <Link to="/login" className="text-accent-400 hover:underline">
      Back to log in
    </Link>
  );
}
