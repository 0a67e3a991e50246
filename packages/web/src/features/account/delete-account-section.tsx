import type { AccountDeletionPlan } from "@kiln/protocol";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useNavigate } from "@tanstack/react-router";
import { type FormEvent, useState } from "react";
import { api } from "../../api/endpoints.ts";
import { describeError, isApiError } from "../../api/errors.ts";
import { keys } from "../../api/keys.ts";
import { Button } from "../../ui/button.tsx";
import { Dialog } from "../../ui/dialog.tsx";
import { Field, Input } from "../../ui/input.tsx";

type PlanOrg = AccountDeletionPlan["deletes"][number];

/**
 * Deleting the account: what goes with it (its personal org, orgs it alone is in), what it leaves, and
 * which orgs block it (it is their last owner and others are members) — said before the password is asked.
 */
export function DeleteAccountSection() {
  const [open, setOpen] = useState(false);
  return (
    <div className="flex max-w-md flex-col items-start gap-3">
      <p className="text-sm text-neutral-400">
        Deletes your personal organization and every organization only you belong to, with their projects, and
        signs you out everywhere. This cannot be undone.
      </p>
      <Button variant="danger" size="md" onClick={() => setOpen(true)}>
        Delete account…
      </Button>
      <Dialog open={open} onClose={() => setOpen(false)} title="Delete your account?">
        <DeletePanel onCancel={() => setOpen(false)} />
      </Dialog>
    </div>
  );
}

/** Mounted while the dialog is open: the plan is asked afresh each time (memberships change). */
function DeletePanel({ onCancel }: { onCancel: () => void }) {
  const plan = useQuery({
    queryKey: keys.accountDeletion,
    queryFn: api.auth.deletionPlan,
    staleTime: 0,
    gcTime: 0,
  });
  if (plan.isPending) return <p className="text-sm text-neutral-400">Checking your organizations…</p>;
  if (plan.isError) {
    return (
      <p role="alert" className="text-sm text-red-300">
        {describeError(plan.error)}
      </p>
    );
  }
  return <DeleteForm plan={plan.data} onCancel={onCancel} />;
}

function OrgList({ orgs }: { orgs: PlanOrg[] }) {
  return (
    <ul className="mt-1 list-inside list-disc text-sm text-neutral-200">
      {orgs.map((o) => (
        <li key={o.id}>
          {o.name}
          {o.personal && <span className="text-neutral-500"> (personal)</span>}
        </li>
      ))}
    </ul>
  );
}

function DeleteForm({ plan, onCancel }: { plan: AccountDeletionPlan; onCancel: () => void }) {
  const [password, setPassword] = useState("");
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const remove = useMutation({
    mutationFn: () => api.auth.deleteAccount(password),
    onSuccess: async () => {
      queryClient.clear();
      await navigate({ to: "/login", replace: true });
    },
    meta: { errorToast: false },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    remove.mutate();
  };

  if (plan.blockedBy.length > 0) {
    return (
      <div className="flex flex-col gap-3">
        <p className="text-sm text-neutral-300">
          You are the last owner of these organizations, and others are members. Make someone else an owner
          (or delete the organization) first:
        </p>
        <ul className="list-inside list-disc text-sm text-neutral-200">
          {plan.blockedBy.map((o) => (
            <li key={o.id}>
              <Link to="/$org/settings" params={{ org: o.slug }} className="text-accent-400 hover:underline">
                {o.name}
              </Link>
            </li>
          ))}
        </ul>
        <div className="flex justify-end">
          <Button onClick={onCancel}>Close</Button>
        </div>
      </div>
    );
  }
  return (
    <form onSubmit={submit} className="flex flex-col gap-4" aria-label="Delete account">
      <div>
        <p className="text-sm text-neutral-300">Deleted with your account, projects and all:</p>
        <OrgList orgs={plan.deletes} />
      </div>
      {plan.leaves.length > 0 && (
        <div>
          <p className="text-sm text-neutral-300">You leave, and they stay with their other members:</p>
          <OrgList orgs={plan.leaves} />
        </div>
      )}
      <Field
        label="Your password"
        error={isApiError(remove.error, "wrong_password") ? "That is not your password." : undefined}
      >
        {(id) => (
          <Input
            id={id}
            type="password"
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            autoFocus
            required
          />
        )}
      </Field>
      {remove.isError && !isApiError(remove.error, "wrong_password") && (
        <p role="alert" className="text-sm text-red-300">
          {isApiError(remove.error, "rate_limited")
            ? "Too many tries; wait a few minutes and try again."
            : describeError(remove.error)}
        </p>
      )}
      <div className="flex justify-end gap-2">
        <Button type="button" onClick={onCancel}>
          Cancel
        </Button>
        <Button type="submit" variant="danger" loading={remove.isPending} disabled={!password}>
          Delete my account
        </Button>
      </div>
    </form>
  );
}
