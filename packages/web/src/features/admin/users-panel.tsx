import type { AccountDeletionPlan, AdminUser } from "@kiln/protocol";
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api } from "../../api/endpoints.ts";
import { describeError } from "../../api/errors.ts";
import { keys } from "../../api/keys.ts";
import { Button } from "../../ui/button.tsx";
import { confirmDialog } from "../../ui/confirm.tsx";
import { Input } from "../../ui/input.tsx";
import { LoadingBlock } from "../../ui/spinner.tsx";
import { EmptyState, ErrorState } from "../../ui/states.tsx";
import { toast } from "../../ui/toast.tsx";
import { relativeTime } from "../projects/time.ts";
import { PAGE, Pager } from "./pager.tsx";

/** Every account: search, and suspend or let back in. */
export function UsersPanel() {
  const [q, setQ] = useState("");
  const [offset, setOffset] = useState(0);
  const users = useQuery({
    queryKey: keys.adminUsers(q, offset),
    queryFn: () => api.admin.users({ ...(q ? { q } : {}), offset, limit: PAGE }),
    placeholderData: keepPreviousData,
  });
  return (
    <div className="flex flex-col gap-3">
      <Input
        type="search"
        aria-label="Search accounts"
        placeholder="Search by email or name"
        value={q}
        onChange={(e) => {
          setQ(e.target.value);
          setOffset(0);
        }}
        className="max-w-sm text-xs"
      />
      {users.isPending ? (
        <LoadingBlock label="Loading accounts" />
      ) : users.isError ? (
        <ErrorState message={describeError(users.error)} onRetry={() => users.refetch()} />
      ) : users.data.users.length === 0 ? (
        <EmptyState title="No accounts match" description="Try part of an address or a name." />
      ) : (
        <>
          <ul
            aria-label="Accounts"
            className="flex flex-col divide-y divide-line rounded-md border border-line"
          >
            {users.data.users.map((u) => (
              <UserRow key={u.id} user={u} />
            ))}
          </ul>
          <Pager offset={offset} total={users.data.total} onChange={setOffset} />
        </>
      )}
    </div>
  );
}

function UserRow({ user: u }: { user: AdminUser }) {
  const qc = useQueryClient();
  const done = (what: string) => {
    toast.success(what);
    void qc.invalidateQueries({ queryKey: ["admin"] });
  };
  const suspend = useMutation({
    mutationFn: () => api.admin.suspend(u.id),
    onSuccess: () => done(`${u.email} is suspended and signed out everywhere`),
    meta: { errorToast: "Could not suspend the account" },
  });
  const unsuspend = useMutation({
    mutationFn: () => api.admin.unsuspend(u.id),
    onSuccess: () => done(`${u.email} can sign in again`),
    meta: { errorToast: "Could not let the account back in" },
  });
  const reset = useMutation({
    mutationFn: () => api.admin.passwordReset(u.id),
    onSuccess: (r) => done(`Password reset sent to ${r.email}; signed out everywhere`),
    meta: { errorToast: "Could not send a password reset" },
  });
  const remove = useMutation({
    mutationFn: () => api.admin.deleteUser(u.id),
    onSuccess: () => done(`${u.email} is deleted`),
    meta: { errorToast: "Could not delete the account" },
  });
  const askReset = async () => {
    const ok = await confirmDialog({
      title: `Send ${u.email} a password reset?`,
      description:
        "They are signed out everywhere and get an email with a link to choose a new password (it works once, for 30 minutes). Their current password keeps working until they do.",
      confirmLabel: "Send reset",
    });
    if (ok) reset.mutate();
  };
  const askDelete = async () => {
    let plan: AccountDeletionPlan;
    try {
      plan = await qc.fetchQuery({
        queryKey: ["admin", "deletion-plan", u.id],
        queryFn: () => api.admin.deletionPlan(u.id),
        staleTime: 0,
      });
    } catch (err) {
      toast.error(describeError(err));
      return;
    }
    if (plan.blockedBy.length > 0) {
      await confirmDialog({
        title: `${u.email} cannot be deleted yet`,
        description: (
          <>
            <p>
              They are the last owner of orgs other people are in. Make someone else an owner there (or delete
              the org) first: Kiln does not pick a new owner for people.
            </p>
            <PlanList label="Blocked by" orgs={plan.blockedBy} />
          </>
        ),
        confirmLabel: "OK",
        notice: true,
      });
      return;
    }
    const ok = await confirmDialog({
      title: `Delete ${u.email}?`,
      description: (
        <>
          <p>
            The account is signed out, its API tokens stop, and its address is freed. What it did stays, under
            "Deleted user". This cannot be undone.
          </p>
          <PlanList label="Deleted with it, projects and all" orgs={plan.deletes} />
          <PlanList label="It leaves" orgs={plan.leaves} />
        </>
      ),
      confirmLabel: "Delete account",
      danger: true,
    });
    if (ok) remove.mutate();
  };
  const busy = suspend.isPending || unsuspend.isPending || reset.isPending || remove.isPending;
  return (
    <li className="flex flex-wrap items-center gap-x-3 gap-y-1.5 px-3 py-2 text-xs" data-user={u.email}>
      <div className="min-w-48 flex-1">
        <p className="truncate font-medium text-neutral-100">{u.email}</p>
        <p className="text-neutral-500">
          {u.name} · joined {relativeTime(u.createdAt)} · {u.orgs === 1 ? "1 org" : `${u.orgs} orgs`}
        </p>
      </div>
      {u.instanceAdmin && <Badge>Admin</Badge>}
      {!u.emailVerified && <Badge>Unverified</Badge>}
      {u.suspendedAt && <Badge tone="danger">Suspended</Badge>}
      {u.instanceAdmin ? null : (
        <div className="flex flex-wrap gap-1.5">
          {u.emailVerified && (
            <Button size="xs" disabled={busy} loading={reset.isPending} onClick={askReset}>
              Send password reset
            </Button>
          )}
          {u.suspendedAt ? (
            <Button
              size="xs"
              disabled={busy}
              loading={unsuspend.isPending}
              onClick={() => unsuspend.mutate()}
            >
              Unsuspend
            </Button>
          ) : (
            <Button
              size="xs"
              variant="danger"
              disabled={busy}
              loading={suspend.isPending}
              onClick={async () => {
                const ok = await confirmDialog({
                  title: `Suspend ${u.email}?`,
                  description:
                    "They are signed out everywhere, their API tokens stop working and they cannot sign in until you let them back in. Their orgs and projects stay.",
                  confirmLabel: "Suspend",
                  danger: true,
                });
                if (ok) suspend.mutate();
              }}
            >
              Suspend
            </Button>
          )}
          <Button size="xs" variant="danger" disabled={busy} loading={remove.isPending} onClick={askDelete}>
            Delete…
          </Button>
        </div>
      )}
    </li>
  );
}

function PlanList({ label, orgs }: { label: string; orgs: AccountDeletionPlan["deletes"] }) {
  if (orgs.length === 0) return null;
  return (
    <div className="mt-3">
      <p className="text-xs font-medium text-neutral-400">{label}</p>
      <ul aria-label={label} className="mt-1 list-disc pl-5 text-xs">
        {orgs.map((o) => (
          <li key={o.id}>
            {o.name} <span className="text-neutral-500">/{o.slug}</span>
            {o.personal && <span className="text-neutral-500"> (personal)</span>}
          </li>
        ))}
      </ul>
    </div>
  );
}

export function Badge({ children, tone }: { children: string; tone?: "danger" }) {
  return (
    <span
      className={
        tone === "danger"
          ? "rounded bg-red-500/15 px-1.5 py-0.5 text-[11px] text-red-300"
          : "rounded bg-surface-2 px-1.5 py-0.5 text-[11px] text-neutral-300"
      }
    >
      {children}
    </span>
  );
}
