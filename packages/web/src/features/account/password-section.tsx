import { type FormEvent, useState } from "react";
import { isApiError } from "../../api/errors.ts";
import { errorsFromApi, type FormErrors } from "../../api/form-errors.ts";
import { Button } from "../../ui/button.tsx";
import { Field, Input } from "../../ui/input.tsx";
import { toast } from "../../ui/toast.tsx";
import { useChangePassword } from "./mutations.ts";

const NO_ERRORS: FormErrors = { fields: {} };

/** A new password; every other signed-in browser is signed out, this one stays. */
export function PasswordSection() {
  const [currentPassword, setCurrent] = useState("");
  const [newPassword, setNew] = useState("");
  const [confirm, setConfirm] = useState("");
  const [errors, setErrors] = useState<FormErrors>(NO_ERRORS);
  const change = useChangePassword();

  const save = (e: FormEvent) => {
    e.preventDefault();
    if (newPassword !== confirm) {
      setErrors({ fields: { confirm: "The two new passwords differ." } });
      return;
    }
    setErrors(NO_ERRORS);
    change.mutate(
      { currentPassword, newPassword },
      {
        onSuccess: ({ revoked }) => {
          setCurrent("");
          setNew("");
          setConfirm("");
          toast.success(
            revoked > 0
              ? `Password changed; ${revoked} other session${revoked === 1 ? "" : "s"} signed out`
              : "Password changed",
          );
        },
        onError: (err) =>
          setErrors(
            isApiError(err, "wrong_password")
              ? { fields: { currentPassword: "That is not your current password." } }
              : isApiError(err, "rate_limited")
                ? { fields: {}, form: "Too many tries; wait a few minutes and try again." }
                : errorsFromApi(err),
          ),
      },
    );
  };

  return (
    <form onSubmit={save} className="flex max-w-md flex-col gap-4" aria-label="Change password">
      <Field label="Current password" error={errors.fields.currentPassword}>
        {(id) => (
          <Input
            id={id}
            type="password"
            autoComplete="current-password"
            value={currentPassword}
            onChange={(e) => setCurrent(e.target.value)}
            required
          />
        )}
      </Field>
      <Field label="New password" error={errors.fields.newPassword} hint="At least 8 characters.">
        {(id) => (
          <Input
            id={id}
            type="password"
            autoComplete="new-password"
            value={newPassword}
            onChange={(e) => setNew(e.target.value)}
            minLength={8}
            maxLength={256}
            required
          />
        )}
      </Field>
      <Field label="Repeat the new password" error={errors.fields.confirm}>
        {(id) => (
          <Input
            id={id}
            type="password"
            autoComplete="new-password"
            value={confirm}
            onChange={(e) => setConfirm(e.target.value)}
            required
          />
        )}
      </Field>
      {errors.form && (
        <p role="alert" className="text-xs text-red-400">
          {errors.form}
        </p>
      )}
      <p className="text-xs text-neutral-500">Changing it signs you out on every other device.</p>
      <div>
        <Button type="submit" variant="primary" size="md" loading={change.isPending}>
          Change password
        </Button>
      </div>
    </form>
  );
}
