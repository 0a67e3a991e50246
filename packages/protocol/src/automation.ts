import { z } from "zod";
import { Id, Timestamp } from "./common.ts";
import { MarkdownText, SingleLine, TaskAssignee, TaskLabel, TaskPriority } from "./tasks.ts";

/** Automation rules: when something happens to a task (trigger) and it fits (conditions), do (actions). */

/**
 * A rule fired by a person's or an agent's change runs at depth 1; a rule fired by that rule's own change at 2,
 * and so on. A rule that would run deeper than this is refused (and the refusal is in the task's activity), so
 * two rules that undo each other stop.
 */
export const AUTOMATION_MAX_DEPTH = 5;
export const MAX_RULE_ACTIONS = 10;
export const MAX_RULES_PER_PROJECT = 100;

export const AUTOMATION_JOB_KINDS = ["implement", "review", "fix"] as const;
export const AutomationJobKind = z.enum(AUTOMATION_JOB_KINDS);
export type AutomationJobKind = z.infer<typeof AutomationJobKind>;

export const AutomationTrigger = z
  .union([
    z.strictObject({ type: z.literal("task_created") }),
    z.strictObject({
      type: z.literal("task_moved"),
      toStatus: Id.optional().describe("Only moves into this status; any status change when absent"),
    }),
    z.strictObject({
      type: z
        .literal("task_assigned")
        .describe("The assignee changed to a member or the agent, or a task was created with one"),
    }),
    z.strictObject({ type: z.literal("task_commented") }),
  ])
  .meta({ id: "AutomationTrigger" });
export type AutomationTrigger = z.infer<typeof AutomationTrigger>;

/** Every condition given must hold (for the task as it is after the triggering change). */
export const AutomationConditions = z
  .strictObject({
    labelsInclude: z.array(TaskLabel).max(20).optional().describe("The task carries every one of these"),
    priorityIn: z.array(TaskPriority).max(5).optional().describe("The task's priority is one of these"),
    assigneeType: z.enum(["member", "agent", "none"]).optional(),
    statusIn: z.array(Id).max(20).optional().describe("The task is in one of these statuses"),
  })
  .meta({ id: "AutomationConditions" });
export type AutomationConditions = z.infer<typeof AutomationConditions>;

export const AutomationAction = z
  .union([
    z.strictObject({
      type: z.literal("start_job"),
      kind: AutomationJobKind,
      instructions: MarkdownText(10_000).optional().describe("Added to the job's prompt"),
      agentId: Id.optional().describe(
        "The agent the job runs; when absent, the one the task is assigned to, else Kiln's built-in agent",
      ),
    }),
    z.strictObject({ type: z.literal("move"), statusId: Id.describe("To the bottom of this status") }),
    z.strictObject({ type: z.literal("assign"), assignee: TaskAssignee.nullable() }),
    z.strictObject({
      type: z.literal("comment"),
      text: MarkdownText(10_000).refine((s) => s.trim().length > 0, "must not be empty"),
    }),
  ])
  .meta({ id: "AutomationAction" });
export type AutomationAction = z.infer<typeof AutomationAction>;

const RuleName = SingleLine(100);

export const AutomationRule = z
  .object({
    id: Id,
    projectId: Id,
    name: z.string(),
    enabled: z.boolean(),
    trigger: AutomationTrigger,
    conditions: AutomationConditions,
    actions: z.array(AutomationAction),
    createdBy: Id.nullable().describe("null for the rules a workflow template ships with"),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .meta({ id: "AutomationRule" });
export type AutomationRule = z.infer<typeof AutomationRule>;

export const CreateRuleBody = z.strictObject({
  name: RuleName,
  enabled: z.boolean().optional().describe("Default true"),
  trigger: AutomationTrigger,
  conditions: AutomationConditions.optional(),
  actions: z.array(AutomationAction).min(1).max(MAX_RULE_ACTIONS).describe("Run in order"),
});
export type CreateRuleBody = z.infer<typeof CreateRuleBody>;

export const UpdateRuleBody = z
  .strictObject({
    name: RuleName.optional(),
    enabled: z.boolean().optional(),
    trigger: AutomationTrigger.optional(),
    conditions: AutomationConditions.optional(),
    actions: z.array(AutomationAction).min(1).max(MAX_RULE_ACTIONS).optional(),
  })
  .refine((b) => Object.values(b).some((v) => v !== undefined), "nothing to update");
export type UpdateRuleBody = z.infer<typeof UpdateRuleBody>;
