import { z } from "zod";
import { Id, Timestamp } from "./common.ts";
import { SingleLine } from "./tasks.ts";

/** A project's task workflow: its statuses (board columns) and which moves between them are allowed. */

/** What a status means, whatever it is called: the board, reports and automation reason about groups. */
export const STATUS_GROUPS = ["backlog", "unstarted", "started", "review", "completed", "cancelled"] as const;
export const StatusGroup = z.enum(STATUS_GROUPS);
export type StatusGroup = z.infer<typeof StatusGroup>;

/** Named colours from the studio's palette; the theme decides the shade. */
export const STATUS_COLORS = [
  "gray",
  "blue",
  "cyan",
  "green",
  "yellow",
  "orange",
  "red",
  "purple",
  "pink",
] as const;
export const StatusColor = z.enum(STATUS_COLORS);
export type StatusColor = z.infer<typeof StatusColor>;

export const WORKFLOW_TEMPLATES = ["software-development", "simple-kanban"] as const;
export const WorkflowTemplateName = z
  .enum(WORKFLOW_TEMPLATES)
  .describe(
    "software-development: Backlog → To do → In progress → Review → Done (+ Cancelled), with automation rules; " +
      "simple-kanban: To do → Doing → Done, any move allowed",
  );
export type WorkflowTemplateName = z.infer<typeof WorkflowTemplateName>;
export const DEFAULT_WORKFLOW_TEMPLATE: WorkflowTemplateName = "software-development";

export const MAX_STATUSES = 30;

// Not `Name`: status names are shown in narrow columns and matched case-insensitively for uniqueness.
export const StatusName = SingleLine(40);

export const WorkflowStatus = z
  .object({
    id: Id,
    name: z.string(),
    group: StatusGroup,
    color: StatusColor,
    /** 0-based column order. */
    position: z.number().int(),
    /** The statuses a task in this one may be moved to (moving within the status is always allowed). */
    transitions: z.array(Id),
  })
  .meta({ id: "WorkflowStatus" });
export type WorkflowStatus = z.infer<typeof WorkflowStatus>;

export const Workflow = z
  .object({
    projectId: Id,
    template: WorkflowTemplateName.describe("The template the workflow was created from"),
    statuses: z.array(WorkflowStatus).describe("In column order"),
    updatedAt: Timestamp,
  })
  .meta({ id: "Workflow" });
export type Workflow = z.infer<typeof Workflow>;

export const ApplyWorkflowTemplateBody = z.strictObject({ template: WorkflowTemplateName });
export type ApplyWorkflowTemplateBody = z.infer<typeof ApplyWorkflowTemplateBody>;

export const CreateStatusBody = z.strictObject({
  name: StatusName,
  group: StatusGroup,
  color: StatusColor.optional(),
  position: z.number().int().min(0).max(MAX_STATUSES).optional().describe("Column index; default: last"),
  transitions: z
    .array(Id)
    .max(MAX_STATUSES)
    .optional()
    .describe("Statuses a task may move to from the new one; default: every other status"),
  reachableFrom: z
    .array(Id)
    .max(MAX_STATUSES)
    .optional()
    .describe("Statuses from which a task may move to the new one; default: every other status"),
});
export type CreateStatusBody = z.infer<typeof CreateStatusBody>;

export const UpdateStatusBody = z
  .strictObject({
    name: StatusName.optional(),
    group: StatusGroup.optional(),
    color: StatusColor.optional(),
    transitions: z.array(Id).max(MAX_STATUSES).optional().describe("Replaces the status's allowed moves"),
  })
  .refine((b) => Object.values(b).some((v) => v !== undefined), "nothing to update");
export type UpdateStatusBody = z.infer<typeof UpdateStatusBody>;

export const ReorderStatusesBody = z.strictObject({
  statusIds: z.array(Id).min(1).max(MAX_STATUSES).describe("Every status of the workflow, in the new order"),
});
export type ReorderStatusesBody = z.infer<typeof ReorderStatusesBody>;
