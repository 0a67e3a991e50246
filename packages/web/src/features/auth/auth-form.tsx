import { useQueryClient } from "@tanstack/react-query";
import { Link, useNavigate } from "@tanstack/react-router";
import { type FormEvent, useState } from "react";
import { api } from "../../api/endpoints.ts";
import { isApiError } from "../../api/errors.ts";
import { errorsFromApi, type FormErrors } from "../../api/form-errors.ts";
import { meQuery } from "../../api/queries.ts";
import { Button } from "../../ui/button.tsx";
import { Field, Input } from "../../ui/input.tsx";
import { homeOrg, safeNext } from "./session.ts";

/** Log-in and sign-up share one form; sign-up adds a name and asks for a longer password. */
export function AuthForm({ mode, next }: { mode: "login" | "signup"; next?: string | undefined }) {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [name, setName] = useState("");
  const [errors, setErrors] = useState<FormErrors>({ fields: {} });
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setErrors({ fields: {} });
    setBusy(true);
    try {
      if (mode === "signup") {
        await api.auth.signup({ email, password, ...(name.trim() ? { name: name.trim() } : {}) });
      } else {
        await api.auth.login({ email, password });
      }
      queryClient.clear();
      const me = await queryClient.fetchQuery(meQuery);
      const target = safeNext(next);
      // A new account's address is unproven: the code just mailed comes first (it can be skipped).
      if (mode === "signup" && !me.user.emailVerified)
        await navigate({ to: "/verify-email", search: target ? { next: target } : {}, replace: true });
      else if (target) await navigate({ href: target, replace: true });
      else {
        const org = homeOrg(me);
        await navigate(org ? { to: "/$org", params: { org }, replace: true } : { to: "/", replace: true });
      }
    } catch (err) {
      // A refused field (a short password, a malformed address) is said next to that field.
      setErrors(
        isApiError(err, "invalid_credentials")
          ? { fields: {}, form: "Wrong email or password." }
          : isApiError(err, "email_taken")
            ? { fields: { email: "An account with this email already exists. Log in instead." } }
            : isApiError(err, "rate_limited")
              ? { fields: {}, form: "Too many attempts. Wait a few minutes and try again." }
              : errorsFromApi(err),
      );
      setBusy(false);
    }
  };

  return (
    <form onSubmit={submit} className="flex flex-col gap-4" noValidate>
      {mode === "signup" && (
        <Field label="Name" error={errors.fields.name}>
          {(id) => (
            <Input
              id={id}
              value={name}
              onChange={(e) => setName(e.target.value)}
              autoComplete="name"
              placeholder="Ada Lovelace"
            />
          )}
        </Field>
      )}
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
      <Field
        label="Password"
        hint={mode === "signup" ? "At least 8 characters." : undefined}
        error={errors.fields.password}
      >
        {(id) => (
          <Input
            id={id}
            type="password"
            required
            minLength={mode === "signup" ? 8 : 1}
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            autoComplete={mode === "signup" ? "new-password" : "current-password"}
          />
        )}
      </Field>
      {mode === "login" && (
        <Link
          to="/forgot-password"
          search={email.includes("@") ? { email } : {}}
          className="-mt-2 self-end text-xs text-accent-400 hover:underline"
        >
          Forgot password?
        </Link>
      )}
      {errors.form && (
        <p
          role="alert"
          className="rounded-md border border-red-500/30 bg-red-500/10 px-3 py-2 text-xs text-red-300"
        >
          {errors.form}
        </p>
      )}
      <Button type="submit" variant="primary" size="md" loading={busy} className="w-full">
        {mode === "signup" ? "Create account" : "Log in"}
      </Button>
    </form>
  );
}
