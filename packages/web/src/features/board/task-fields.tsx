import {
  type Member,
  TASK_PRIORITIES,
  type Task,
  type TaskPriority,
  type WorkflowStatus,
} from "@kiln/protocol";
import { useQueryClient } from "@tanstack/react-query";
import { api } from "../../api/endpoints.ts";
import { describeError, isApiError } from "../../api/errors.ts";
import { useProject } from "../../state/project-context.tsx";
import { Select } from "../../ui/input.tsx";
import { toast } from "../../ui/toast.tsx";
import { assigneeValue, parseAssignee } from "./assignee.ts";
import { tasksKey } from "./queries.ts";

/**
 * Status, assignee and priority of a task as selects: the keyboard's way to do what dragging does, and
 * where a task is handed to the agent. The status offers only the moves the workflow allows.
 */
export function TaskFields({
  task,
  statuses,
  members,
}: {
  task: Task;
  statuses: readonly WorkflowStatus[];
  members: readonly Member[] | undefined;
}) {
  const { org, project, canWrite } = useProject();
  const qc = useQueryClient();
  const current = statuses.find((s) => s.id === task.statusId);
  const targets = statuses.filter((s) => s.id === task.statusId || current?.transitions.includes(s.id));

  const run = async (what: string, action: () => Promise<unknown>) => {
    try {
      await action();
    } catch (err) {
      const allowed = isApiError(err, "transition_not_allowed")
        ? (err.details as { allowed?: Array<{ name?: string | null }> } | undefined)?.allowed
        : undefined;
      toast.error(
        allowed
          ? `${describeError(err)}. Allowed: ${allowed.map((s) => s.name).join(", ") || "none"}.`
          : `Could not change the ${what}: ${describeError(err)}`,
      );
    } finally {
      await qc.invalidateQueries({ queryKey: tasksKey(org, project) });
    }
  };

  const cls = "h-7 w-auto text-xs";
  return (
    <div className="flex flex-wrap gap-2">
      <Select
        aria-label="Status"
        className={cls}
        disabled={!canWrite}
        value={task.statusId}
        onChange={(e) =>
          void run("status", () => api.tasks.move(org, project, task.id, { statusId: e.target.value }))
        }
      >
        {targets.map((s) => (
          <option key={s.id} value={s.id}>
            {s.name}
          </option>
        ))}
      </Select>
      <Select
        aria-label="Assignee"
        className={cls}
        disabled={!canWrite}
        value={assigneeValue(task.assignee)}
        onChange={(e) =>
          void run("assignee", () =>
            api.tasks.update(org, project, task.id, { assignee: parseAssignee(e.target.value) }),
          )
        }
      >
        <option value="">Nobody</option>
        <option value="agent">Agent</option>
        {members?.map((m) => (
          <option key={m.userId} value={`member:${m.userId}`}>
            {m.name || m.email}
          </option>
        ))}
      </Select>
      <Select
        aria-label="Priority"
        className={cls}
        disabled={!canWrite}
        value={task.priority}
        onChange={(e) =>
          void run("priority", () =>
            api.tasks.update(org, project, task.id, { priority: e.target.value as TaskPriority }),
          )
        }
      >
        {TASK_PRIORITIES.map((p) => (
          <option key={p} value={p}>
            {p === "none" ? "No priority" : p}
          </option>
        ))}
      </Select>
    </div>
  );
}
