import type {
  AutomationAction,
  AutomationConditions,
  StatusColor,
  StatusGroup,
  WorkflowTemplateName,
} from "@kiln/protocol";

/** The workflows a project can start from. Statuses refer to each other by key until they get ids. */

export interface TemplateStatus {
  key: string;
  name: string;
  group: StatusGroup;
  color: StatusColor;
  /** Keys of the statuses a task may move to from this one. */
  to: string[];
}

/** A rule as a template holds it: statuses named by key (`statusIn`, a move's `statusId`). */
export interface TemplateRule {
  name: string;
  /** A task_moved trigger into the status with this key, or a task_assigned trigger. */
  on: { movedTo: string } | "assigned";
  conditions: AutomationConditions;
  actions: AutomationAction[];
}

export interface WorkflowTemplate {
  name: WorkflowTemplateName;
  statuses: TemplateStatus[];
  rules: TemplateRule[];
}

const SOFTWARE: WorkflowTemplate = {
  name: "software-development",
  statuses: [
    { key: "backlog", name: "Backlog", group: "backlog", color: "gray", to: ["todo", "doing", "cancelled"] },
    { key: "todo", name: "To do", group: "unstarted", color: "blue", to: ["backlog", "doing", "cancelled"] },
    // Work reaches Done through Review only: that is where a person looks at the agent's diff.
    {
      key: "doing",
      name: "In progress",
      group: "started",
      color: "yellow",
      to: ["backlog", "todo", "review", "cancelled"],
    },
    { key: "review", name: "Review", group: "review", color: "purple", to: ["doing", "done", "cancelled"] },
    { key: "done", name: "Done", group: "completed", color: "green", to: ["todo", "doing"] },
    { key: "cancelled", name: "Cancelled", group: "cancelled", color: "red", to: ["backlog", "todo"] },
  ],
  rules: [
    {
      name: "Implement when an agent's task starts",
      on: { movedTo: "doing" },
      conditions: { assigneeType: "agent" },
      actions: [{ type: "start_job", kind: "implement" }],
    },
    // Handing a task to the agent (or creating it for the agent) in To do or In progress starts it: the
    // move sets off the rule above, and the job starts once (the engine starts one job of a kind per task
    // and change).
    {
      name: "Start when the agent is assigned a task to do",
      on: "assigned",
      conditions: { assigneeType: "agent", statusIn: ["todo", "doing"] },
      actions: [
        { type: "move", statusId: "doing" },
        { type: "start_job", kind: "implement" },
      ],
    },
    {
      name: "Review when a task reaches Review",
      on: { movedTo: "review" },
      conditions: {},
      actions: [{ type: "start_job", kind: "review" }],
    },
  ],
};

const KANBAN_KEYS = ["todo", "doing", "done"];
const KANBAN: WorkflowTemplate = {
  name: "simple-kanban",
  statuses: [
    { key: "todo", name: "To do", group: "unstarted", color: "blue", to: [] },
    { key: "doing", name: "Doing", group: "started", color: "yellow", to: [] },
    { key: "done", name: "Done", group: "completed", color: "green", to: [] },
  ].map((s) => ({ ...s, to: KANBAN_KEYS.filter((k) => k !== s.key) }) as TemplateStatus),
  rules: [],
};

export const TEMPLATES: Record<WorkflowTemplateName, WorkflowTemplate> = {
  "software-development": SOFTWARE,
  "simple-kanban": KANBAN,
};
