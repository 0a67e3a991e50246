import type { Member, WorkflowStatus } from "@kiln/protocol";
import { useQuery } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import Markdown from "react-markdown";
import { useProject } from "../../state/project-context.tsx";
import { IconButton } from "../../ui/button.tsx";
import { cn } from "../../ui/cn.ts";
import { confirmDialog } from "../../ui/confirm.tsx";
import { CloseIcon, PencilIcon, TrashIcon } from "../../ui/icons.tsx";
import { LoadingBlock } from "../../ui/spinner.tsx";
import { useOrgAgents } from "./agent-options.tsx";
import { useDeleteTask } from "./mutations.ts";
import { STATUS_SWATCH } from "./order.ts";
import { tasksQuery } from "./queries.ts";
import { RelatedTasks } from "./related-tasks.tsx";
import { ReviewPanel } from "./review-panel.tsx";
import { TaskActivity } from "./task-activity.tsx";
import { assigneeName } from "./task-card.tsx";
import { TaskComments } from "./task-comments.tsx";
import { TaskEditor } from "./task-editor.tsx";
import { TaskFields } from "./task-fields.tsx";
import { TaskJobs } from "./task-jobs.tsx";

/**
 * One task beside the board, over the board only (its nearest positioned ancestor), so the workspace
 * header with "Back to code" stays usable: description (edited in place), the agent's work up for review, its jobs with
 * their live log, comments and activity.
 */
export function TaskDrawer({
  taskId,
  statuses,
  members,
  onClose,
  onOpen,
}: {
  taskId: string;
  statuses: readonly WorkflowStatus[];
  members: readonly Member[] | undefined;
  onClose: () => void;
  onOpen: (taskId: string) => void;
}) {
  const { org, project, canWrite } = useProject();
  const removeTask = useDeleteTask();
  const agents = useOrgAgents();
  const tasks = useQuery(tasksQuery(org, project));
  const task = tasks.data?.find((t) => t.id === taskId);
  const status = statuses.find((s) => s.id === task?.statusId);
  const parent = tasks.data?.find((t) => t.id === task?.parentId);
  const subtasks = tasks.data?.filter((t) => t.parentId === taskId) ?? [];
  const [editing, setEditing] = useState(false);

  // Another task opened in the same drawer starts out read.
  // biome-ignore lint/correctness/useExhaustiveDependencies: reset on a change of task only
  useEffect(() => setEditing(false), [taskId]);

  useEffect(() => {
    // Escape in a dialog over the drawer (a confirmation) closes that dialog only.
    const onKey = (e: KeyboardEvent) =>
      e.key === "Escape" && !document.querySelector("dialog[open]") && onClose();
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [onClose]);

  const remove = async () => {
    if (!task) return;
    const ok = await confirmDialog({
      title: `Delete #${task.number}?`,
      description: `"${task.title}" goes away with its comments and activity. Its subtasks stay, without a parent.`,
      confirmLabel: "Delete task",
      danger: true,
    });
    if (!ok) return;
    removeTask.mutate(task, { onSuccess: onClose });
  };

  return (
    <aside
      aria-label={task ? `Task #${task.number}` : "Task"}
      className="absolute inset-y-0 right-0 z-30 flex w-[36rem] max-w-full flex-col border-l border-line bg-surface-1 shadow-2xl"
    >
      <header className="flex items-start gap-2 border-b border-line px-4 py-3">
        <div className="min-w-0 flex-1">
          {task && (
            <>
              <p className="flex items-center gap-2 text-xs text-neutral-500">
                <span className="font-mono">#{task.number}</span>
                {status && (
                  <span className="flex items-center gap-1">
                    <span className={cn("size-2 rounded-full", STATUS_SWATCH[status.color])} />
                    <span data-testid="task-status">{status.name}</span>
                  </span>
                )}
                <span data-testid="task-assignee">{assigneeName(task, members, agents) ?? "Unassigned"}</span>
                {task.priority !== "none" && <span>{task.priority}</span>}
                {task.labels.map((l) => (
                  <span key={l} className="rounded bg-accent-600/15 px-1 text-accent-300">
                    {l}
                  </span>
                ))}
              </p>
              <h2 className="mt-1 text-base font-medium text-neutral-100">{task.title}</h2>
            </>
          )}
        </div>
        {task && canWrite && (
          <>
            <IconButton label="Edit task" active={editing} onClick={() => setEditing((e) => !e)}>
              <PencilIcon className="size-3.5" />
            </IconButton>
            <IconButton label="Delete task" onClick={() => void remove()}>
              <TrashIcon className="size-3.5" />
            </IconButton>
          </>
        )}
        <IconButton label="Close" onClick={onClose}>
          <CloseIcon className="size-3.5" />
        </IconButton>
      </header>
      {!task ? (
        <LoadingBlock label="Loading the task" />
      ) : (
        <div className="flex min-h-0 flex-1 flex-col gap-5 overflow-y-auto px-4 py-3">
          {editing ? (
            <TaskEditor
              task={task}
              tasks={tasks.data ?? []}
              members={members}
              onDone={() => setEditing(false)}
            />
          ) : (
            <>
              <TaskFields task={task} statuses={statuses} members={members} />
              {task.description ? (
                <div
                  data-testid="task-description"
                  className="prose-kiln text-[13px] leading-relaxed text-neutral-200"
                >
                  <Markdown>{task.description}</Markdown>
                </div>
              ) : canWrite ? (
                <button
                  type="button"
                  onClick={() => setEditing(true)}
                  className="self-start text-xs text-neutral-500 hover:text-neutral-300"
                >
                  No description. Add one…
                </button>
              ) : (
                <p className="text-xs text-neutral-600">No description.</p>
              )}
            </>
          )}
          {(parent || subtasks.length > 0) && (
            <RelatedTasks parent={parent} subtasks={subtasks} statuses={statuses} onOpen={onOpen} />
          )}
          {status?.group === "review" && <ReviewPanel task={task} />}
          <TaskJobs taskId={task.id} showResult={status?.group !== "review"} />
          <TaskComments taskId={task.id} members={members} />
          <TaskActivity taskId={task.id} members={members} />
        </div>
      )}
    </aside>
  );
}
