import { ENV_LIMITS, ENV_NAME_PATTERN, type EnvVar, reservedEnvName } from "@kiln/protocol";
import { type FormEvent, useEffect, useState } from "react";
import { isApiError } from "../../api/errors.ts";
import { errorsFromApi, type FormErrors } from "../../api/form-errors.ts";
import { Button } from "../../ui/button.tsx";
import { Dialog } from "../../ui/dialog.tsx";
import { Field, Input } from "../../ui/input.tsx";
import { useSetEnvVar } from "./mutations.ts";

const textarea =
  "w-full rounded-md border border-line bg-surface-0 px-2.5 py-2 font-mono text-[13px] text-neutral-100 placeholder:text-neutral-500 focus:border-accent-500 focus:outline-none";

/** What is wrong with a name before asking the server (which checks the same rules). */
function nameProblem(name: string): string | undefined {
  if (!name) return undefined;
  if (name.length > ENV_LIMITS.nameChars) return `At most ${ENV_LIMITS.nameChars} characters.`;
  if (!ENV_NAME_PATTERN.test(name)) return "Capital letters, digits and _, not starting with a digit.";
  return reservedEnvName(name);
}

/**
 * Adds a variable (`editing` absent) or replaces one. A secret's value is never sent back to the studio, so
 * changing a secret means typing its whole new value.
 */
export function EnvVarDialog({
  org,
  project,
  open,
  editing,
  onClose,
}: {
  org: string;
  project: string;
  open: boolean;
  editing: EnvVar | undefined;
  onClose: () => void;
}) {
  const save = useSetEnvVar(org, project);
  const [name, setName] = useState("");
  const [value, setValue] = useState("");
  const [secret, setSecret] = useState(true);
  const [errors, setErrors] = useState<FormErrors>({ fields: {} });

  useEffect(() => {
    if (!open) return;
    setName(editing?.name ?? "");
    setValue(editing && !editing.secret ? (editing.value ?? "") : "");
    setSecret(editing ? editing.secret : true);
    setErrors({ fields: {} });
  }, [open, editing]);

  const problem = nameProblem(name);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (problem) return;
    save.mutate(
      { name, value, secret },
      {
        onSuccess: onClose,
        onError: (err) =>
          setErrors(
            isApiError(err, "env_var_reserved")
              ? { fields: { name: err.message } }
              : isApiError(err, "too_many_env_vars")
                ? { fields: {}, form: err.message }
                : errorsFromApi(err),
          ),
      },
    );
  };

  return (
    <Dialog
      open={open}
      onClose={save.isPending ? () => {} : onClose}
      title={editing ? `Change ${editing.name}` : "Add a variable"}
      className="w-[min(32rem,calc(100vw-2rem))]"
    >
      <form id="env-var" onSubmit={submit} className="flex flex-col gap-4">
        <Field label="Name" error={problem ?? errors.fields.name}>
          {(id) => (
            <Input
              id={id}
              value={name}
              onChange={(e) => setName(e.target.value.toUpperCase().replace(/[\s-]/g, "_"))}
              readOnly={editing !== undefined}
              autoFocus={!editing}
              required
              spellCheck={false}
              autoComplete="off"
              placeholder="STRIPE_SECRET_KEY"
              className="font-mono"
            />
          )}
        </Field>
        <Field
          label="Value"
          error={errors.fields.value}
          hint={editing?.secret ? "The current value is not shown; type the new one." : undefined}
        >
          {(id) => (
            <textarea
              id={id}
              value={value}
              onChange={(e) => setValue(e.target.value)}
              autoFocus={editing !== undefined}
              rows={secret ? 2 : 3}
              spellCheck={false}
              autoComplete="off"
              // Masked as typed, like a password field (a textarea keeps multi-line values possible).
              className={secret ? `${textarea} [-webkit-text-security:disc]` : textarea}
            />
          )}
        </Field>
        <label className="flex items-start gap-2 text-xs text-neutral-300">
          <input
            type="checkbox"
            checked={secret}
            onChange={(e) => setSecret(e.target.checked)}
            className="mt-0.5 accent-accent-500"
          />
          <span>
            <span className="font-medium text-neutral-100">Secret</span>
            <span className="block text-neutral-500">
              Never shown again here, only its last characters. Keys, passwords, tokens.
            </span>
          </span>
        </label>
        {errors.form && (
          <p role="alert" className="text-xs text-red-400">
            {errors.form}
          </p>
        )}
      </form>
      <div className="mt-5 flex justify-end gap-2">
        <Button onClick={onClose} disabled={save.isPending}>
          Cancel
        </Button>
        <Button
          type="submit"
          form="env-var"
          variant="primary"
          loading={save.isPending}
          disabled={!name || problem !== undefined}
        >
          {editing ? "Save" : "Add variable"}
        </Button>
      </div>
    </Dialog>
  );
}
