import type { AdminOrg } from "@kiln/protocol";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "../../api/endpoints.ts";
import { describeError } from "../../api/errors.ts";
import { keys } from "../../api/keys.ts";
import { Button } from "../../ui/button.tsx";
import { confirmDialog } from "../../ui/confirm.tsx";
import { Dialog } from "../../ui/dialog.tsx";
import { LoadingBlock } from "../../ui/spinner.tsx";
import { ErrorState } from "../../ui/states.tsx";
import { toast } from "../../ui/toast.tsx";
import { formatCost, formatTokenCount } from "../usage/usage-data.ts";
import { Badge } from "./users-panel.tsx";

/** One org in a dialog: its members, projects, model usage of the last 30 days, and deleting it. */
export function OrgDetailDialog({ org, onClose }: { org: AdminOrg | null; onClose: () => void }) {
  return (
    <Dialog
      open={org !== null}
      onClose={onClose}
      title={org ? `${org.name} /${org.slug}` : ""}
      className="w-[min(36rem,calc(100vw-2rem))]"
    >
      {org && <OrgDetail org={org} onDeleted={onClose} />}
    </Dialog>
  );
}

function OrgDetail({ org, onDeleted }: { org: AdminOrg; onDeleted: () => void }) {
  const qc = useQueryClient();
  const detail = useQuery({ queryKey: keys.adminOrg(org.id), queryFn: () => api.admin.org(org.id) });
  const remove = useMutation({
    mutationFn: () => api.admin.deleteOrg(org.id),
    onSuccess: () => {
      toast.success(`${org.name} is deleted`);
      void qc.invalidateQueries({ queryKey: ["admin"] });
      onDeleted();
    },
    meta: { errorToast: "Could not delete the org" },
  });
  if (detail.isPending) return <LoadingBlock label="Loading the org" />;
  if (detail.isError)
    return <ErrorState message={describeError(detail.error)} onRetry={() => detail.refetch()} />;
  const d = detail.data;
  const usage = [
    ["Projects", String(d.projects)],
    ["Model calls", String(d.usage.calls)],
    ["Tokens", formatTokenCount(d.usage.inputTokens + d.usage.outputTokens)],
    ["Cost", formatCost(d.usage)],
  ] as const;
  return (
    <div className="flex flex-col gap-4 text-xs">
      <dl className="grid grid-cols-2 gap-2 sm:grid-cols-4" aria-label="Org usage, last 30 days">
        {usage.map(([label, value]) => (
          <div key={label} className="rounded-md border border-line bg-surface-1 px-2.5 py-1.5">
            <dt className="text-neutral-500">{label}</dt>
            <dd className="text-sm font-semibold text-neutral-100">{value}</dd>
          </div>
        ))}
      </dl>
      <p className="text-neutral-500">Model usage of the last 30 days.</p>
      <div>
        <p className="mb-1 font-medium text-neutral-300">Members</p>
        <ul aria-label="Members" className="flex flex-col divide-y divide-line rounded-md border border-line">
          {d.members.map((m) => (
            <li key={m.userId} className="flex items-center gap-2 px-2.5 py-1.5">
              <span className="min-w-0 flex-1 truncate text-neutral-100">
                {m.email} <span className="text-neutral-500">{m.name}</span>
              </span>
              <Badge>{m.role}</Badge>
            </li>
          ))}
        </ul>
      </div>
      {org.personal ? (
        <p className="text-neutral-500">
          A personal org goes with its account: delete the account (Accounts) to delete it.
        </p>
      ) : (
        <Button
          variant="danger"
          size="sm"
          className="self-start"
          loading={remove.isPending}
          onClick={async () => {
            const ok = await confirmDialog({
              title: `Delete ${org.name}?`,
              description: `Its ${d.projects === 1 ? "project" : `${d.projects} projects`}, their files, chats, tasks and deployments are deleted, and its ${d.members.length === 1 ? "member loses" : `${d.members.length} members lose`} access. Their accounts stay. This cannot be undone.`,
              confirmLabel: "Delete org",
              danger: true,
            });
            if (ok) remove.mutate();
          }}
        >
          Delete org…
        </Button>
      )}
    </div>
  );
}
