import type { AutomationAction, AutomationRule, WorkflowStatus } from "@kiln/protocol";
import { useQuery } from "@tanstack/react-query";
import { describeError } from "../../api/errors.ts";
import { cn } from "../../ui/cn.ts";
import { useProject } from "../workspace/project-context.tsx";
import { rulesQuery } from "./queries.ts";

/** The project's automation rules, read-only: when what happens. */
export function RulesList({ statuses }: { statuses: readonly WorkflowStatus[] }) {
  const { org, project } = useProject();
  const rules = useQuery(rulesQuery(org, project));
  const name = (id: string | undefined) => statuses.find((s) => s.id === id)?.name ?? "a status";
  return (
    <section
      aria-label="Automation rules"
      className="max-h-60 shrink-0 overflow-y-auto border-b border-line bg-surface-1 px-3 py-2"
    >
      {rules.isPending && <p className="text-xs text-neutral-500">Loading rules…</p>}
      {rules.isError && <p className="text-xs text-red-300">{describeError(rules.error)}</p>}
      {rules.data?.length === 0 && <p className="text-xs text-neutral-500">No automation rules.</p>}
      <ul className="flex flex-col gap-1">
        {rules.data?.map((rule) => (
          <li
            key={rule.id}
            className={cn("text-xs", rule.enabled ? "text-neutral-300" : "text-neutral-600 line-through")}
          >
            <span className="font-medium text-neutral-100">{rule.name}</span>
            <span className="text-neutral-500"> — {describeRule(rule, name)}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}

function describeRule(rule: AutomationRule, name: (id: string | undefined) => string): string {
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
    c.assigneeType && `assigned to ${c.assigneeType === "agent" ? "the agent" : c.assigneeType}`,
    c.labelsInclude?.length && `labelled ${c.labelsInclude.join(", ")}`,
    c.priorityIn?.length && `priority ${c.priorityIn.join("/")}`,
  ].filter(Boolean);
  const then = rule.actions.map((a) => describeAction(a, name)).join(", ");
  return `${when}${ifs.length ? ` and ${ifs.join(" and ")}` : ""}: ${then}`;
}

function describeAction(a: AutomationAction, name: (id: string | undefined) => string): string {
  switch (a.type) {
    case "start_job":
      return `start ${a.kind === "implement" ? "an" : "a"} ${a.kind} job`;
    case "move":
      return `move it to ${name(a.statusId)}`;
    case "assign":
      return a.assignee ? `assign ${a.assignee.type === "agent" ? "the agent" : "a member"}` : "unassign";
    case "comment":
      return "comment";
  }
}
