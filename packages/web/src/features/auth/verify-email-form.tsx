import { useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { api } from "../../api/endpoints.ts";
import { describeError, isApiError } from "../../api/errors.ts";
import { meQuery } from "../../api/queries.ts";
import { Button } from "../../ui/button.tsx";
import { Field, Input } from "../../ui/input.tsx";

function explain(err: unknown): string {
  if (isApiError(err, "verification_invalid")) return "That code is not right. Check the newest email.";
  if (isApiError(err, "verification_expired")) return "That code has expired. Send a new one.";
  if (isApiError(err, "rate_limited")) return "Too many tries. Wait a few minutes and try again.";
  if (isApiError(err, "email_taken")) return "Another account has already verified this address.";
  if (isApiError(err, "validation_failed")) return "The code is the six digits from the email.";
  return describeError(err);
}

/** The six-digit code from the verification email, and "send a new one". */
export function VerifyEmailForm({ onVerified }: { onVerified: () => void | Promise<void> }) {
  const queryClient = useQueryClient();
  const [code, setCode] = useState("");
  const [error, setError] = useState<string>();
  const [notice, setNotice] = useState<string>();
  const [busy, setBusy] = useState<"verify" | "send">();

  const verify = async (e: FormEvent) => {
    e.preventDefault();
    setError(undefined);
    setNotice(undefined);
    setBusy("verify");
    try {
      await api.auth.verifyCode(code.replace(/\s+/g, ""));
      await queryClient.fetchQuery({ ...meQuery, staleTime: 0 });
      await onVerified();
    } catch (err) {
      setError(explain(err));
      setBusy(undefined);
    }
  };

  const resend = async () => {
    setError(undefined);
    setNotice(undefined);
    setBusy("send");
    try {
      const sent = await api.auth.sendVerification();
      setCode("");
      setNotice(
        sent.emailSent
          ? `A new code is on its way to ${sent.email}.`
          : "The mail server could not be reached. Try again in a moment.",
      );
    } catch (err) {
      setError(explain(err));
    }
    setBusy(undefined);
  };

  return (
    <form onSubmit={verify} className="flex flex-col gap-4" noValidate>
      <Field label="Verification code" hint="Six digits, valid for an hour.">
        {(id) => (
          <Input
            id={id}
            value={code}
            onChange={(e) => setCode(e.target.value)}
            inputMode="numeric"
            autoComplete="one-time-code"
            maxLength={12}
            autoFocus
            placeholder="123456"
            className="text-center font-mono text-lg tracking-[0.4em]"
          />
        )}
      </Field>
      {error && (
        <p
          role="alert"
          className="rounded-md border border-red-500/30 bg-red-500/10 px-3 py-2 text-xs text-red-300"
        >
          {error}
        </p>
      )}
      {notice && (
        <p role="status" className="text-xs text-neutral-400">
          {notice}
        </p>
      )}
      <Button type="submit" variant="primary" size="md" loading={busy === "verify"} className="w-full">
        Verify email
      </Button>
      <Button
        variant="ghost"
        size="sm"
        loading={busy === "send"}
        disabled={busy === "verify"}
        onClick={() => void resend()}
      >
        Send a new code
      </Button>
    </form>
  );
}
