import type { SignupMode, SignupPolicy } from "@kiln/protocol";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { api } from "../../api/endpoints.ts";
import { describeError } from "../../api/errors.ts";
import { errorsFromApi } from "../../api/form-errors.ts";
import { keys } from "../../api/keys.ts";
import { Button } from "../../ui/button.tsx";
import { Field, Input } from "../../ui/input.tsx";
import { LoadingBlock } from "../../ui/spinner.tsx";
import { ErrorState } from "../../ui/states.tsx";
import { toast } from "../../ui/toast.tsx";

const MODES: Array<{ mode: SignupMode; label: string; hint: string }> = [
  { mode: "open", label: "Anyone", hint: "Anyone who can reach this instance can make an account." },
  { mode: "invite_only", label: "Invited addresses", hint: "Only an address an org has invited." },
  { mode: "domains", label: "Some domains", hint: "Addresses at the domains below, and invited ones." },
  { mode: "closed", label: "Nobody", hint: "No new accounts; people who have one still sign in." },
];

/** Who may make an account on this instance. */
export function SignupPanel() {
  const policy = useQuery({ queryKey: keys.adminSignup, queryFn: api.admin.signupPolicy });
  if (policy.isPending) return <LoadingBlock label="Loading the sign-up policy" />;
  if (policy.isError)
    return <ErrorState message={describeError(policy.error)} onRetry={() => policy.refetch()} />;
  return <SignupForm key={policy.data.updatedAt ?? "default"} policy={policy.data} />;
}

function SignupForm({ policy }: { policy: SignupPolicy }) {
  const qc = useQueryClient();
  const [mode, setMode] = useState<SignupMode>(policy.mode);
  const [domains, setDomains] = useState(policy.domains.join(", "));
  const save = useMutation({
    mutationFn: () =>
      api.admin.updateSignupPolicy({
        mode,
        domains: mode === "domains" ? domains.split(/[\s,]+/).filter(Boolean) : [],
      }),
    onSuccess: (saved) => {
      qc.setQueryData(keys.adminSignup, saved);
      toast.success("Sign-up policy saved");
    },
    meta: { errorToast: false },
  });
  const errors = save.error ? errorsFromApi(save.error) : undefined;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate();
  };
  return (
    <form onSubmit={submit} className="flex max-w-lg flex-col gap-4">
      <fieldset className="flex flex-col gap-2">
        <legend className="mb-2 text-xs font-medium text-neutral-300">Who may sign up</legend>
        {MODES.map((m) => (
          <label key={m.mode} className="flex cursor-pointer items-start gap-2 text-xs">
            <input
              type="radio"
              name="signup-mode"
              value={m.mode}
              checked={mode === m.mode}
              onChange={() => setMode(m.mode)}
              className="mt-0.5"
            />
            <span>
              <span className="font-medium text-neutral-100">{m.label}</span>
              <span className="block text-neutral-500">{m.hint}</span>
            </span>
          </label>
        ))}
      </fieldset>
      {mode === "domains" && (
        <Field
          label="Domains"
          hint="Comma-separated, e.g. example.com, example.org"
          error={errors?.fields.domains}
        >
          {(id) => <Input id={id} value={domains} onChange={(e) => setDomains(e.target.value)} />}
        </Field>
      )}
      {errors?.form && (
        <p role="alert" className="text-xs text-red-400">
          {errors.form}
        </p>
      )}
      <Button type="submit" variant="primary" className="self-start" loading={save.isPending}>
        Save
      </Button>
    </form>
  );
}
