import type { User } from "@kiln/protocol";
import { Link } from "@tanstack/react-router";
import { type FormEvent, useState } from "react";
import { isApiError } from "../../api/errors.ts";
import { errorsFromApi, type FormErrors } from "../../api/form-errors.ts";
import { Button } from "../../ui/button.tsx";
import { Field, Input } from "../../ui/input.tsx";
import { toast } from "../../ui/toast.tsx";
import { useUpdateMe } from "./mutations.ts";

const NO_ERRORS: FormErrors = { fields: {} };

function messageOf(err: unknown): FormErrors {
  if (isApiError(err, "wrong_password"))
    return { fields: { currentPassword: "That is not your current password." } };
  if (isApiError(err, "email_taken"))
    return { fields: { email: "Another account already uses this address." } };
  return errorsFromApi(err);
}

/** Name and email address; a new address needs the password and is verified by a mailed code. */
export function ProfileSection({ user }: { user: User }) {
  const [name, setName] = useState(user.name);
  const [email, setEmail] = useState(user.email);
  const [currentPassword, setCurrentPassword] = useState("");
  const [errors, setErrors] = useState<FormErrors>(NO_ERRORS);
  const update = useUpdateMe();
  const emailChanged = email.trim().toLowerCase() !== user.email.toLowerCase();
  const dirty = name.trim() !== user.name || emailChanged;

  const save = (e: FormEvent) => {
    e.preventDefault();
    setErrors(NO_ERRORS);
    update.mutate(
      {
        ...(name.trim() !== user.name ? { name } : {}),
        ...(emailChanged ? { email, currentPassword } : {}),
      },
      {
        onSuccess: (saved) => {
          setCurrentPassword("");
          setName(saved.name);
          setEmail(saved.email);
          toast.success(emailChanged ? `Saved; we sent a code to ${saved.email}` : "Saved");
        },
        onError: (err) => setErrors(messageOf(err)),
      },
    );
  };

  return (
    <form onSubmit={save} className="flex max-w-md flex-col gap-4" aria-label="Profile">
      <Field label="Name" error={errors.fields.name}>
        {(id) => (
          <Input id={id} value={name} onChange={(e) => setName(e.target.value)} maxLength={100} required />
        )}
      </Field>
      <Field
        label="Email"
        error={errors.fields.email}
        hint={
          user.emailVerified ? (
            <span className="text-emerald-400">Verified</span>
          ) : (
            <span className="text-amber-300">
              Not verified yet ·{" "}
              <Link to="/verify-email" search={{ next: "/account" }} className="underline underline-offset-2">
                Enter the code
              </Link>
            </span>
          )
        }
      >
        {(id) => (
          <Input id={id} type="email" value={email} onChange={(e) => setEmail(e.target.value)} required />
        )}
      </Field>
      {emailChanged && (
        <Field
          label="Current password"
          error={errors.fields.currentPassword}
          hint="Needed to change the address. The new one must be verified before it counts."
        >
          {(id) => (
            <Input
              id={id}
              type="password"
              autoComplete="current-password"
              value={currentPassword}
              onChange={(e) => setCurrentPassword(e.target.value)}
              required
            />
          )}
        </Field>
      )}
      {errors.form && (
        <p role="alert" className="text-xs text-red-400">
          {errors.form}
        </p>
      )}
      <div>
        <Button type="submit" variant="primary" size="md" loading={update.isPending} disabled={!dirty}>
          Save profile
        </Button>
      </div>
    </form>
  );
}
