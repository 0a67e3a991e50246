import {
  type Member,
  TASK_PRIORITIES,
  type Task,
  type TaskPriority,
  type WorkflowStatus,
} from "@kiln/protocol";
import { useProject } from "../../state/project-context.tsx";
import { Select } from "../../ui/input.tsx";
import { AgentOptions, useOrgAgents } from "./agent-options.tsx";
import { assigneeValue, parseAssignee } from "./assignee.ts";
import { useMoveTask, useUpdateTask } from "./mutations.ts";

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
  const { canWrite } = useProject();
  const move = useMoveTask();
  const update = useUpdateTask();
  const agents = useOrgAgents();
  const assignee = assigneeValue(task.assignee);
  const current = statuses.find((s) => s.id === task.statusId);
  const targets = statuses.filter((s) => s.id === task.statusId || current?.transitions.includes(s.id));

  const cls = "h-7 w-auto text-xs";
  return (
    <div className="flex flex-wrap gap-2">
      <Select
        aria-label="Status"
        className={cls}
        disabled={!canWrite}
        value={task.statusId}
        onChange={(e) => move.mutate({ task, statusId: e.target.value })}
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
        value={assignee}
        onChange={(e) =>
          update.mutate({ taskId: task.id, body: { assignee: parseAssignee(e.target.value) } })
        }
      >
        <option value="">Nobody</option>
        <AgentOptions agents={agents} current={assignee} prefix="Agent: " />
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
          update.mutate({ taskId: task.id, body: { priority: e.target.value as TaskPriority } })
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
