import {
  type AutomationAction,
  type AutomationRule,
  BUILTIN_AGENT_ID,
  type Member,
  type WorkflowStatus,
} from "@kiln/protocol";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { describeError } from "../../api/errors.ts";
import { useProject } from "../../state/project-context.tsx";
import { Button, IconButton } from "../../ui/button.tsx";
import { cn } from "../../ui/cn.ts";
import { confirmDialog } from "../../ui/confirm.tsx";
import { PencilIcon, PlusIcon, TrashIcon } from "../../ui/icons.tsx";
import { useHeldValues } from "../../ui/use-held-values.ts";
import { useOrgAgents } from "./agent-options.tsx";
import { useRemoveRule, useSetRuleEnabled } from "./mutations.ts";
import { rulesQuery } from "./queries.ts";
import { RuleDialog } from "./rule-dialog.tsx";

/**
 * The project's automation rules — when what happens — in the order they run. Whoever may manage them
 * (admins) adds, edits, switches off and deletes them here; everyone else reads them.
 */
export function RulesList({
  statuses,
  members,
  canManage,
}: {
  statuses: readonly WorkflowStatus[];
  members: readonly Member[] | undefined;
  canManage: boolean;
}) {
  const { org, project } = useProject();
  const setEnabled = useSetRuleEnabled();
  const removeRule = useRemoveRule();
  const rules = useQuery(rulesQuery(org, project));
  // null: a new rule; undefined: the dialog is closed.
  const [editing, setEditing] = useState<AutomationRule | null | undefined>(undefined);
  // A box's new state while it is saved. A failure is toasted by the cache.
  const saving = useHeldValues<boolean>();
  const toggle = (rule: AutomationRule, enabled: boolean) =>
    saving.hold(rule.id, enabled, setEnabled.mutateAsync({ rule, enabled }));
  const name = (id: string | undefined) => statuses.find((s) => s.id === id)?.name ?? "a status";
  const agents = useOrgAgents();
  const agentName = (id: string | undefined) => {
    if (!agents) return "an agent";
    return agents.find((a) => a.id === (id ?? BUILTIN_AGENT_ID))?.name ?? "an archived agent";
  };
  const who = (userId: string) => {
    const m = members?.find((x) => x.userId === userId);
    return m?.name || m?.email || "a member";
  };

  const remove = async (rule: AutomationRule) => {
    const ok = await confirmDialog({
      title: `Delete the rule "${rule.name}"?`,
      description: "Tasks it already changed stay as they are.",
      confirmLabel: "Delete rule",
      danger: true,
    });
    if (ok) removeRule.mutate(rule);
  };

  return (
    <section
      aria-label="Automation rules"
      className="max-h-[45vh] shrink-0 overflow-y-auto border-b border-line bg-surface-1 px-3 py-2"
    >
      <header className="mb-1.5 flex items-center gap-2">
        <h3 className="text-xs font-medium tracking-wide text-neutral-400 uppercase">Automation rules</h3>
        <span className="hidden text-[11px] text-neutral-600 sm:inline">
          run in this order, top to bottom
        </span>
        {canManage && (
          <Button
            size="xs"
            className="ml-auto"
            icon={<PlusIcon className="size-3" />}
            onClick={() => setEditing(null)}
          >
            New rule
          </Button>
        )}
      </header>
      {rules.isPending && <p className="text-xs text-neutral-500">Loading rules…</p>}
      {rules.isError && <p className="text-xs text-red-300">{describeError(rules.error)}</p>}
      {rules.data?.length === 0 && <p className="text-xs text-neutral-500">No automation rules.</p>}
      <ul className="flex flex-col divide-y divide-line">
        {rules.data?.map((rule) => (
          <li key={rule.id} data-testid="rule" className="flex items-center gap-2 py-1.5">
            {canManage && (
              <input
                type="checkbox"
                aria-label={`Enable ${rule.name}`}
                checked={saving.get(rule.id) ?? rule.enabled}
                onChange={(e) => toggle(rule, e.target.checked)}
                className="size-4 shrink-0 accent-accent-500"
              />
            )}
            <p
              className={cn("min-w-0 flex-1 text-xs", rule.enabled ? "text-neutral-300" : "text-neutral-600")}
            >
              <span className={cn("font-medium", rule.enabled ? "text-neutral-100" : "line-through")}>
                {rule.name}
              </span>
              {!rule.enabled && <span className="text-neutral-500"> (off)</span>}
              <span className="text-neutral-500"> — {describeRule(rule, name, who, agentName)}</span>
            </p>
            {canManage && (
              <>
                <IconButton label={`Edit ${rule.name}`} onClick={() => setEditing(rule)}>
                  <PencilIcon className="size-3.5" />
                </IconButton>
                <IconButton label={`Delete ${rule.name}`} onClick={() => void remove(rule)}>
                  <TrashIcon className="size-3.5" />
                </IconButton>
              </>
            )}
          </li>
        ))}
      </ul>
      <RuleDialog
        open={editing !== undefined}
        rule={editing ?? null}
        statuses={statuses}
        members={members}
        onClose={() => setEditing(undefined)}
      />
    </section>
  );
}

type Namer = (id: string | undefined) => string;

export function describeRule(
  rule: AutomationRule,
  name: Namer,
  who: (userId: string) => string,
  agent: Namer,
): string {
  const t = rule.trigger;
  const when =
    t.type === "task_moved"
      ? t.toStatus
        ? `when a task moves to ${name(t.toStatus)}`
        : "when a task moves"
      : t.type === "task_created"
        ? "when a task is created"
        : t.type === "task_assigned"
          ? "when a task is assigned"
          : "when a task gets a comment";
  const c = rule.conditions;
  const ifs = [
    c.assigneeType &&
      (c.assigneeType === "agent"
        ? "assigned to the agent"
        : c.assigneeType === "none"
          ? "unassigned"
          : "assigned to a member"),
    c.labelsInclude?.length && `labelled ${c.labelsInclude.join(", ")}`,
    c.priorityIn?.length && `priority ${c.priorityIn.join("/")}`,
    c.statusIn?.length && `in ${c.statusIn.map((id) => name(id)).join(" or ")}`,
  ].filter(Boolean);
  const then = rule.actions.map((a) => describeAction(a, name, who, agent)).join(", then ");
  return `${when}${ifs.length ? ` and ${ifs.join(" and ")}` : ""}: ${then}`;
}

function describeAction(
  a: AutomationAction,
  name: Namer,
  who: (userId: string) => string,
  agent: Namer,
): string {
  switch (a.type) {
    case "start_job":
      return `start ${a.kind === "implement" ? "an" : "a"} ${a.kind} job${a.agentId ? ` by ${agent(a.agentId)}` : ""}`;
    case "move":
      return `move it to ${name(a.statusId)}`;
    case "assign":
      return a.assignee
        ? `assign ${a.assignee.type === "agent" ? `the agent ${agent(a.assignee.agentId)}` : who(a.assignee.userId)}`
        : "unassign";
    case "comment":
      return `comment "${a.text.length > 40 ? `${a.text.slice(0, 40)}…` : a.text}"`;
  }
}
