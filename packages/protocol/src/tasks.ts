import { z } from "zod";
import { Id, Timestamp } from "./common.ts";

/** Tasks on a project's board, their comments and their activity log. */

export const MAX_TASK_TITLE_CHARS = 200;
export const MAX_TASK_DESCRIPTION_CHARS = 50_000;
export const MAX_COMMENT_CHARS = 20_000;
export const MAX_LABELS = 20;
export const MAX_TASK_LIST = 1000;

// Free text that reaches a jsonb column (activity) or an agent's prompt: no NUL, no lone surrogates
// (PostgreSQL refuses both in JSON).
const wellFormed = (s: string) => !s.includes("\u0000") && s.isWellFormed();

/** A markdown body (description, comment): anything but NUL and broken Unicode. */
export const MarkdownText = (max: number) =>
  z.string().max(max).refine(wellFormed, "must not contain NUL or unpaired surrogates");

function isPlainLine(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return false;
  }
  return s.isWellFormed();
}

/** One line of text (a title, a name): trimmed, no control characters, well-formed Unicode. */
export const SingleLine = (max: number) =>
  z.string().trim().min(1).max(max).refine(isPlainLine, "one line of text, without control characters");

export const TaskTitle = SingleLine(MAX_TASK_TITLE_CHARS);

export const TaskLabel = SingleLine(50).refine((s) => !s.includes(","), "no commas");

export const TaskLabels = z.array(TaskLabel).max(MAX_LABELS).describe("Labels; duplicates are dropped");

export const TASK_PRIORITIES = ["none", "low", "medium", "high", "urgent"] as const;
export const TaskPriority = z.enum(TASK_PRIORITIES);
export type TaskPriority = z.infer<typeof TaskPriority>;

export const MemberAssignee = z.strictObject({ type: z.literal("member"), userId: Id });
export const AgentAssignee = z.strictObject({
  type: z.literal("agent"),
  agentId: Id.optional().describe(
    "The org's agent that runs the task's jobs (GET /api/orgs/{org}/agents); Kiln's built-in agent when absent",
  ),
});
/** A member of the org, or the agent (whichever worker takes the task's jobs). */
export const TaskAssignee = z.union([MemberAssignee, AgentAssignee]).meta({ id: "TaskAssignee" });
export type TaskAssignee = z.infer<typeof TaskAssignee>;

export const Task = z
  .object({
    id: Id,
    projectId: Id,
    number: z.number().int().describe("Per-project number, shown as #12"),
    title: z.string(),
    description: z.string().describe("Markdown"),
    statusId: Id,
    priority: TaskPriority,
    assignee: TaskAssignee.nullable(),
    labels: z.array(z.string()),
    parentId: Id.nullable(),
    position: z
      .string()
      .describe("Order within the status column: compare as plain (byte-wise) strings, smallest on top"),
    createdBy: Id.nullable(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .meta({ id: "Task" });
export type Task = z.infer<typeof Task>;

export const CreateTaskBody = z.strictObject({
  title: TaskTitle,
  description: MarkdownText(MAX_TASK_DESCRIPTION_CHARS).optional(),
  statusId: Id.optional().describe("Default: the workflow's first status"),
  priority: TaskPriority.optional(),
  assignee: TaskAssignee.nullable().optional(),
  labels: TaskLabels.optional(),
  parentId: Id.nullable().optional(),
});
export type CreateTaskBody = z.infer<typeof CreateTaskBody>;

export const UpdateTaskBody = z
  .strictObject({
    title: TaskTitle.optional(),
    description: MarkdownText(MAX_TASK_DESCRIPTION_CHARS).optional(),
    priority: TaskPriority.optional(),
    assignee: TaskAssignee.nullable().optional(),
    labels: TaskLabels.optional(),
    parentId: Id.nullable().optional(),
  })
  .refine((b) => Object.values(b).some((v) => v !== undefined), "nothing to update");
export type UpdateTaskBody = z.infer<typeof UpdateTaskBody>;

export const MoveTaskBody = z.strictObject({
  statusId: Id.describe("The target status (may be the current one, to reorder)"),
  afterId: Id.nullable()
    .optional()
    .describe("Place right after this task of the target status; null = at the top"),
  beforeId: Id.optional().describe("Place right before this task of the target status"),
});
export type MoveTaskBody = z.infer<typeof MoveTaskBody>;

export const TaskListQuery = z.strictObject({
  status: Id.optional(),
  assignee: z
    .union([z.enum(["me", "agent", "none"]), Id])
    .optional()
    .describe("me, agent, none, or a member's user id"),
  label: TaskLabel.optional(),
  q: MarkdownText(200).optional().describe("Words in the title or description, or a number like #12"),
  parentId: Id.optional(),
  limit: z.coerce.number().int().min(1).max(MAX_TASK_LIST).default(500),
});
export type TaskListQuery = z.infer<typeof TaskListQuery>;

/** Who did something to a task: a person, an agent job, an automation rule (at a depth), or Kiln itself. */
export const TaskActor = z
  .union([
    z.object({ type: z.literal("member"), userId: Id }),
    z.object({ type: z.literal("agent"), jobId: z.string().nullable() }),
    z.object({
      type: z.literal("automation"),
      ruleId: Id,
      depth: z.number().int().describe("1 = fired by a person's or agent's change"),
    }),
    z.object({ type: z.literal("system") }),
  ])
  .meta({ id: "TaskActor" });
export type TaskActor = z.infer<typeof TaskActor>;

export const TaskComment = z
  .object({
    id: Id,
    taskId: Id,
    author: TaskActor,
    body: z.string().describe("Markdown"),
    createdAt: Timestamp,
    editedAt: Timestamp.nullable(),
  })
  .meta({ id: "TaskComment" });
export type TaskComment = z.infer<typeof TaskComment>;

const CommentText = MarkdownText(MAX_COMMENT_CHARS).refine((s) => s.trim().length > 0, "must not be empty");
export const CreateCommentBody = z.strictObject({ body: CommentText });
export type CreateCommentBody = z.infer<typeof CreateCommentBody>;
export const UpdateCommentBody = z.strictObject({ body: CommentText });
export type UpdateCommentBody = z.infer<typeof UpdateCommentBody>;

export const TASK_ACTIVITY_KINDS = [
  "created",
  "title_changed",
  "description_changed",
  "priority_changed",
  "assignee_changed",
  "labels_changed",
  "parent_changed",
  "moved",
  "reordered",
  "commented",
  "comment_edited",
  "comment_deleted",
  "job_started",
  "job_not_started",
  "automation_refused",
  "automation_failed",
] as const;
export const TaskActivityKind = z.enum(TASK_ACTIVITY_KINDS);
export type TaskActivityKind = z.infer<typeof TaskActivityKind>;

export const TaskActivity = z
  .object({
    id: z.number().int().describe("Increases with every entry"),
    taskId: Id,
    actor: TaskActor,
    kind: TaskActivityKind,
    /** What changed, before and after (statuses as `{ id, name }`); null when it does not apply. */
    from: z.unknown(),
    to: z.unknown(),
    message: z.string().nullable(),
    createdAt: Timestamp,
  })
  .meta({ id: "TaskActivity" });
export type TaskActivity = z.infer<typeof TaskActivity>;

export const TaskActivityQuery = z.strictObject({
  after: z.coerce.number().int().min(0).optional().describe("Only entries with a greater id"),
  limit: z.coerce.number().int().min(1).max(500).default(200),
});
export type TaskActivityQuery = z.infer<typeof TaskActivityQuery>;
