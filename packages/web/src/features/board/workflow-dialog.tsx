import { STATUS_GROUPS, type StatusGroup, type WorkflowStatus } from "@kiln/protocol";
import { type FormEvent, useState } from "react";
import { succeeds } from "../../api/query-client.ts";
import { Button, IconButton } from "../../ui/button.tsx";
import { cn } from "../../ui/cn.ts";
import { confirmDialog } from "../../ui/confirm.tsx";
import { Dialog } from "../../ui/dialog.tsx";
import { TrashIcon } from "../../ui/icons.tsx";
import { Input, Select } from "../../ui/input.tsx";
import { useAddStatus, useRemoveStatus, useUpdateStatus } from "./mutations.ts";
import { STATUS_SWATCH } from "./order.ts";

const GROUP_LABELS: Record<StatusGroup, string> = {
  backlog: "Backlog",
  unstarted: "Not started",
  started: "Started",
  review: "Review",
  completed: "Completed",
  cancelled: "Cancelled",
};

/**
 * The workflow behind the board: its statuses in column order and where a task may go from each. Admins
 * rename statuses, tick the allowed moves, add and delete statuses; everyone else sees the same as text.
 */
export function WorkflowDialog({
  open,
  onClose,
  statuses,
  canManage,
}: {
  open: boolean;
  onClose: () => void;
  statuses: readonly WorkflowStatus[];
  canManage: boolean;
}) {
  const updateStatus = useUpdateStatus();
  const addStatus = useAddStatus();
  const removeStatus = useRemoveStatus();

  // The box shows the click at once, in the same render as the click (the query cache tells its readers a
  // tick later, and a controlled checkbox would flick back in between); cleared when the save settles.
  const [pending, setPending] = useState<Record<string, boolean>>({});
  const toggle = (status: WorkflowStatus, target: string, allowed: boolean) => {
    const key = `${status.id}>${target}`;
    setPending((p) => ({ ...p, [key]: allowed }));
    const transitions = allowed
      ? [...status.transitions, target]
      : status.transitions.filter((id) => id !== target);
    // Each click's own promise: a second click before the first settles must not leave the first pending.
    const settled = () =>
      setPending((p) => {
        const { [key]: _, ...rest } = p;
        return rest;
      });
    updateStatus.mutateAsync({ statusId: status.id, body: { transitions } }).then(settled, settled);
  };

  const remove = async (status: WorkflowStatus) => {
    const ok = await confirmDialog({
      title: `Delete the status "${status.name}"?`,
      description: "Only a status without tasks, and that no automation rule names, can go.",
      confirmLabel: "Delete status",
      danger: true,
    });
    if (ok) removeStatus.mutate(status);
  };

  return (
    <Dialog
      open={open}
      onClose={onClose}
      title="Workflow"
      description="The board's columns, in order, and the moves a task may make from each. Moving within a column is always allowed."
      className="w-[min(48rem,calc(100vw-1rem))]"
      footer={<Button onClick={onClose}>Close</Button>}
    >
      <ol className="flex flex-col divide-y divide-line">
        {statuses.map((status) => (
          <li
            key={status.id}
            data-testid="workflow-status"
            aria-label={status.name}
            className="flex flex-col gap-2 py-3"
          >
            <div className="flex items-center gap-2">
              <span className={cn("size-2.5 shrink-0 rounded-full", STATUS_SWATCH[status.color])} />
              {canManage ? (
                <StatusName
                  key={status.name}
                  status={status}
                  onRename={(name) =>
                    succeeds(updateStatus.mutateAsync({ statusId: status.id, body: { name } }))
                  }
                />
              ) : (
                <span className="text-sm font-medium text-neutral-100">{status.name}</span>
              )}
              <span className="rounded bg-surface-3 px-1.5 py-0.5 text-[11px] text-neutral-400">
                {GROUP_LABELS[status.group]}
              </span>
              {canManage && (
                <IconButton
                  label={`Delete status ${status.name}`}
                  className="ml-auto"
                  onClick={() => void remove(status)}
                >
                  <TrashIcon className="size-3.5" />
                </IconButton>
              )}
            </div>
            <fieldset className="flex flex-wrap items-center gap-x-3 gap-y-1 pl-4.5">
              <legend className="sr-only">Moves from {status.name}</legend>
              <span className="text-[11px] text-neutral-500">Can move to</span>
              {canManage
                ? statuses
                    .filter((s) => s.id !== status.id)
                    .map((target) => (
                      <label key={target.id} className="flex items-center gap-1 text-xs text-neutral-300">
                        <input
                          type="checkbox"
                          className="size-3.5 accent-accent-500"
                          aria-label={`${status.name} to ${target.name}`}
                          checked={
                            pending[`${status.id}>${target.id}`] ?? status.transitions.includes(target.id)
                          }
                          onChange={(e) => toggle(status, target.id, e.target.checked)}
                        />
                        {target.name}
                      </label>
                    ))
                : statuses
                    .filter((s) => status.transitions.includes(s.id))
                    .map((target) => (
                      <span
                        key={target.id}
                        className="rounded border border-line px-1.5 text-xs text-neutral-300"
                      >
                        {target.name}
                      </span>
                    ))}
              {!canManage && status.transitions.length === 0 && (
                <span className="text-xs text-neutral-600">nowhere else</span>
              )}
            </fieldset>
          </li>
        ))}
      </ol>
      {canManage && <AddStatus onAdd={(body) => succeeds(addStatus.mutateAsync(body))} />}
    </Dialog>
  );
}

function StatusName({
  status,
  onRename,
}: {
  status: WorkflowStatus;
  onRename: (name: string) => Promise<boolean>;
}) {
  const [name, setName] = useState(status.name);
  const commit = async () => {
    const next = name.trim();
    if (!next || next === status.name) return setName(status.name);
    if (!(await onRename(next))) setName(status.name);
  };
  return (
    <Input
      aria-label={`Name of ${status.name}`}
      value={name}
      maxLength={40}
      onChange={(e) => setName(e.target.value)}
      onBlur={() => void commit()}
      onKeyDown={(e) => {
        if (e.key === "Enter") {
          e.preventDefault();
          void commit();
        }
      }}
      className="h-7 w-40 text-sm font-medium"
    />
  );
}

function AddStatus({ onAdd }: { onAdd: (body: { name: string; group: StatusGroup }) => Promise<boolean> }) {
  const [name, setName] = useState("");
  const [group, setGroup] = useState<StatusGroup>("started");
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!name.trim()) return;
    setBusy(true);
    if (await onAdd({ name: name.trim(), group })) setName("");
    setBusy(false);
  };
  return (
    <form onSubmit={submit} className="mt-2 flex flex-wrap items-center gap-2 border-t border-line pt-3">
      <Input
        aria-label="New status name"
        placeholder="New status"
        value={name}
        maxLength={40}
        onChange={(e) => setName(e.target.value)}
        className="h-8 w-44 text-sm"
      />
      <Select
        aria-label="New status group"
        value={group}
        onChange={(e) => setGroup(e.target.value as StatusGroup)}
        className="h-8 w-auto text-xs"
      >
        {STATUS_GROUPS.map((g) => (
          <option key={g} value={g}>
            {GROUP_LABELS[g]}
          </option>
        ))}
      </Select>
      <Button type="submit" size="sm" loading={busy} disabled={!name.trim()}>
        Add status
      </Button>
    </form>
  );
}
