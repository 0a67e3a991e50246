import {
  type AutomationAction,
  type AutomationJobKind,
  type AutomationRule,
  type AutomationTrigger,
  BUILTIN_AGENT_ID,
  type CreateRuleBody,
  type TaskPriority,
} from "@kiln/protocol";
import { agentValue, assigneeValue, parseAssignee, parseLabels } from "./assignee.ts";

/**
 * An automation rule as its editor holds it: plain strings for the inputs, every action's fields kept
 * whatever its type, so switching an action's type and back loses nothing typed.
 */
export interface RuleDraft {
  name: string;
  enabled: boolean;
  trigger: AutomationTrigger["type"];
  /** For task_moved: "" = any status change. */
  toStatus: string;
  /** Comma-separated. */
  labels: string;
  priorities: TaskPriority[];
  assigneeType: "" | "member" | "agent" | "none";
  /** Status ids the task must be in; empty = any. */
  statusIn: string[];
  actions: ActionDraft[];
}

export interface ActionDraft {
  type: AutomationAction["type"];
  kind: AutomationJobKind;
  instructions: string;
  statusId: string;
  /** An assignee select value: "", "agent", "agent:<agentId>" or "member:<userId>". */
  assignee: string;
  /** The agent a start_job runs: "" the task's agent, "agent" the built-in, or "agent:<agentId>". */
  jobAgent: string;
  text: string;
}

export const TRIGGER_LABELS: Record<AutomationTrigger["type"], string> = {
  task_created: "A task is created",
  task_moved: "A task moves to a status",
  task_assigned: "A task is assigned",
  task_commented: "A task gets a comment",
};

export const ACTION_LABELS: Record<AutomationAction["type"], string> = {
  start_job: "Start an agent job",
  move: "Move it",
  assign: "Assign it",
  comment: "Comment",
};

export function emptyAction(type: AutomationAction["type"] = "start_job"): ActionDraft {
  return {
    type,
    kind: "implement",
    instructions: "",
    statusId: "",
    assignee: "agent",
    jobAgent: "",
    text: "",
  };
}

export function emptyDraft(): RuleDraft {
  return {
    name: "",
    enabled: true,
    trigger: "task_moved",
    toStatus: "",
    labels: "",
    priorities: [],
    assigneeType: "",
    statusIn: [],
    actions: [emptyAction()],
  };
}

export function draftFromRule(rule: AutomationRule): RuleDraft {
  const c = rule.conditions;
  return {
    name: rule.name,
    enabled: rule.enabled,
    trigger: rule.trigger.type,
    toStatus: rule.trigger.type === "task_moved" ? (rule.trigger.toStatus ?? "") : "",
    labels: (c.labelsInclude ?? []).join(", "),
    priorities: [...(c.priorityIn ?? [])],
    assigneeType: c.assigneeType ?? "",
    statusIn: [...(c.statusIn ?? [])],
    actions: rule.actions.map(actionDraftOf),
  };
}

function actionDraftOf(a: AutomationAction): ActionDraft {
  const draft = emptyAction(a.type);
  switch (a.type) {
    case "start_job":
      return {
        ...draft,
        kind: a.kind,
        instructions: a.instructions ?? "",
        jobAgent: a.agentId ? agentValue(a.agentId) : "",
      };
    case "move":
      return { ...draft, statusId: a.statusId };
    case "assign":
      return { ...draft, assignee: assigneeValue(a.assignee) };
    case "comment":
      return { ...draft, text: a.text };
  }
}

function actionOf(d: ActionDraft): AutomationAction {
  switch (d.type) {
    case "start_job":
      return {
        type: "start_job",
        kind: d.kind,
        ...(d.instructions.trim() ? { instructions: d.instructions } : {}),
        ...(d.jobAgent ? { agentId: jobAgentId(d.jobAgent) } : {}),
      };
    case "move":
      return { type: "move", statusId: d.statusId };
    case "assign":
      return { type: "assign", assignee: parseAssignee(d.assignee) };
    case "comment":
      return { type: "comment", text: d.text };
  }
}

/**
 * The body the API takes (CreateRuleBody; also a full UpdateRuleBody). Conditions left empty are left out;
 * the caller validates the result with the protocol's schema before sending it.
 */
export function draftToBody(d: RuleDraft): CreateRuleBody {
  const trigger: AutomationTrigger =
    d.trigger === "task_moved"
      ? d.toStatus
        ? { type: "task_moved", toStatus: d.toStatus }
        : { type: "task_moved" }
      : { type: d.trigger };
  const labels = parseLabels(d.labels);
  return {
    name: d.name,
    enabled: d.enabled,
    trigger,
    conditions: {
      ...(labels.length > 0 ? { labelsInclude: labels } : {}),
      ...(d.priorities.length > 0 ? { priorityIn: d.priorities } : {}),
      ...(d.assigneeType ? { assigneeType: d.assigneeType } : {}),
      ...(d.statusIn.length > 0 ? { statusIn: d.statusIn } : {}),
    },
    actions: d.actions.map(actionOf),
  };
}

function jobAgentId(value: string): string {
  return value.startsWith("agent:") ? value.slice("agent:".length) : BUILTIN_AGENT_ID;
}
