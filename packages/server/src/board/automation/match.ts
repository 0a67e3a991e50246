import type { AutomationAction, AutomationConditions, AutomationTrigger, Task } from "@kiln/protocol";

/** What happened to a task, as automation rules see it. */
export type TaskEvent =
  | { type: "task_created"; taskId: string }
  | { type: "task_moved"; taskId: string; fromStatus: string; toStatus: string }
  | { type: "task_assigned"; taskId: string }
  | { type: "task_commented"; taskId: string; commentId: string };

export function triggerMatches(trigger: AutomationTrigger, event: TaskEvent): boolean {
  if (trigger.type !== event.type) return false;
  if (trigger.type === "task_moved" && event.type === "task_moved") {
    return trigger.toStatus === undefined || trigger.toStatus === event.toStatus;
  }
  return true;
}

/** Every condition given holds for the task as it is now. */
export function conditionsHold(conditions: AutomationConditions, task: Task): boolean {
  if (conditions.labelsInclude?.some((label) => !task.labels.includes(label))) return false;
  if (
    conditions.priorityIn &&
    conditions.priorityIn.length > 0 &&
    !conditions.priorityIn.includes(task.priority)
  )
    return false;
  if (conditions.statusIn && conditions.statusIn.length > 0 && !conditions.statusIn.includes(task.statusId))
    return false;
  if (conditions.assigneeType !== undefined) {
    const type = task.assignee?.type ?? "none";
    if (type !== conditions.assigneeType) return false;
  }
  return true;
}

/** The workflow statuses a rule names (its trigger, its conditions and its move actions). */
export function statusIdsIn(rule: {
  trigger: AutomationTrigger;
  conditions: AutomationConditions;
  actions: AutomationAction[];
}): string[] {
  const ids: string[] = [];
  if (rule.trigger.type === "task_moved" && rule.trigger.toStatus) ids.push(rule.trigger.toStatus);
  ids.push(...(rule.conditions.statusIn ?? []));
  for (const action of rule.actions) if (action.type === "move") ids.push(action.statusId);
  return ids.map((id) => id.toLowerCase());
}
