import type { Task, WorkflowStatus } from "@kiln/protocol";
import { can } from "@kiln/protocol";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { type DragEvent, useEffect, useState } from "react";
import { describeError, isApiError } from "../../api/errors.ts";
import { keys } from "../../api/keys.ts";
import { useProject } from "../../state/project-context.tsx";
import { Button } from "../../ui/button.tsx";
import { cn } from "../../ui/cn.ts";
import { PlusIcon } from "../../ui/icons.tsx";
import { LoadingBlock } from "../../ui/spinner.tsx";
import { ErrorState } from "../../ui/states.tsx";
import { toast } from "../../ui/toast.tsx";
import { CreateTaskDialog } from "./create-task-dialog.tsx";
import { type MoveTask, useMoveTask } from "./mutations.ts";
import { canMove, columns, placement, STATUS_SWATCH } from "./order.ts";
import { latestJobsQuery, membersQuery, tasksQuery, workflowQuery } from "./queries.ts";
import { RulesList } from "./rules-list.tsx";
import { TaskCard } from "./task-card.tsx";
import { TaskDrawer } from "./task-drawer.tsx";
import { WorkflowDialog } from "./workflow-dialog.tsx";

/** The project's task board: a column per workflow status, cards dragged between and within them. */
export function BoardView() {
  const { org, project, details, canWrite, role } = useProject();
  const qc = useQueryClient();
  const workflow = useQuery(workflowQuery(org, project));
  const move = useMoveTask((err, { task, statusId }: MoveTask) => {
    const all = workflow.data?.statuses ?? [];
    const to = all.find((s) => s.id === statusId);
    return to && isApiError(err, "transition_not_allowed")
      ? notAllowed(
          to,
          all,
          all.find((s) => s.id === task.statusId),
          err.details,
        )
      : `Could not move #${task.number}: ${describeError(err)}`;
  });
  const tasks = useQuery(tasksQuery(org, project));
  const members = useQuery(membersQuery(org));
  const jobs = useQuery(latestJobsQuery(org, details.id));
  const [dragging, setDragging] = useState<Task | null>(null);
  const [over, setOver] = useState<{ statusId: string; index: number } | null>(null);
  const [creating, setCreating] = useState(false);
  const [openId, setOpenId] = useState<string | null>(null);
  const [showRules, setShowRules] = useState(false);
  const [showWorkflow, setShowWorkflow] = useState(false);

  // A task that changed (moved by a finished job, say) most likely has a job that changed: the badges follow.
  const projectId = details.id;
  const changed = tasks.data?.map((t) => t.updatedAt).join();
  useEffect(() => {
    if (changed !== undefined) void qc.invalidateQueries({ queryKey: keys.projectJobs(org, projectId) });
  }, [changed, qc, org, projectId]);

  if (workflow.isPending || tasks.isPending) return <LoadingBlock label="Loading the board" />;
  if (workflow.isError || tasks.isError)
    return (
      <ErrorState title="Could not load the board" message={describeError(workflow.error ?? tasks.error)} />
    );

  const statuses = workflow.data.statuses;
  const byStatus = columns(statuses, tasks.data);
  const from = dragging ? statuses.find((s) => s.id === dragging.statusId) : undefined;

  const drop = (status: WorkflowStatus, index: number) => {
    const task = dragging;
    setDragging(null);
    setOver(null);
    if (!task || !canWrite) return;
    if (!canMove(from, status.id)) return void toast.error(notAllowed(status, statuses, from));
    const column = byStatus.get(status.id) ?? [];
    const { afterId } = placement(column, task.id, index);
    move.mutate({ task, statusId: status.id, afterId, column });
  };

  return (
    // Positioned: the task drawer opens over the board, below the workspace header.
    <div className="relative flex min-h-0 flex-1 flex-col">
      <div className="flex h-10 shrink-0 items-center gap-2 border-b border-line px-3">
        <h2 className="text-[13px] font-medium text-neutral-200">Board</h2>
        <span className="text-xs whitespace-nowrap text-neutral-500">
          {tasks.data.length} {tasks.data.length === 1 ? "task" : "tasks"}
        </span>
        <div className="ml-auto flex items-center gap-1">
          <Button size="xs" variant="ghost" onClick={() => setShowWorkflow(true)}>
            Workflow
          </Button>
          <Button
            size="xs"
            variant="ghost"
            aria-label="Automation rules"
            aria-pressed={showRules}
            className={cn(showRules && "bg-tint/8 text-neutral-100")}
            onClick={() => setShowRules((s) => !s)}
          >
            <span className="sm:hidden">Rules</span>
            <span className="hidden sm:inline">Automation rules</span>
          </Button>
          {canWrite && (
            <Button
              size="sm"
              variant="primary"
              icon={<PlusIcon className="size-3" />}
              onClick={() => setCreating(true)}
            >
              New task
            </Button>
          )}
        </div>
      </div>
      {showRules && (
        <RulesList statuses={statuses} members={members.data} canManage={can(role, "automation.manage")} />
      )}
      <div className="flex min-h-0 flex-1 gap-3 overflow-x-auto p-3">
        {statuses.map((status) => {
          const list = byStatus.get(status.id) ?? [];
          const allowed = canMove(from, status.id);
          return (
            <section
              key={status.id}
              aria-label={status.name}
              data-status-id={status.id}
              data-allowed={dragging ? String(allowed) : undefined}
              onDragOver={(e) => {
                if (!dragging || !allowed) return;
                e.preventDefault();
                const index = dropIndex(e, list.length);
                if (over?.statusId !== status.id || over.index !== index)
                  setOver({ statusId: status.id, index });
              }}
              onDrop={(e) => {
                e.preventDefault();
                drop(status, dropIndex(e, list.length));
              }}
              className={cn(
                "flex w-72 shrink-0 flex-col rounded-lg border border-line bg-surface-1 transition-opacity",
                dragging && !allowed && "opacity-35",
                dragging && allowed && over?.statusId === status.id && "border-accent-500/60",
              )}
            >
              <header className="flex items-center gap-2 px-3 py-2">
                <span className={cn("size-2 rounded-full", STATUS_SWATCH[status.color])} />
                <h3 className="text-xs font-medium text-neutral-200">{status.name}</h3>
                <span className="text-xs text-neutral-600">{list.length}</span>
              </header>
              <ol className="flex min-h-16 flex-1 flex-col gap-2 overflow-y-auto px-2 pb-2">
                {list.map((task, i) => (
                  <li key={task.id} data-index={i}>
                    {over?.statusId === status.id && over.index === i && <DropMarker />}
                    <TaskCard
                      task={task}
                      job={jobs.data?.get(task.id)}
                      members={members.data}
                      dragging={dragging?.id === task.id}
                      onOpen={() => setOpenId(task.id)}
                      onDragStart={(e) => {
                        e.dataTransfer.effectAllowed = "move";
                        e.dataTransfer.setData("text/plain", task.id);
                        setDragging(task);
                      }}
                      onDragEnd={() => {
                        setDragging(null);
                        setOver(null);
                      }}
                    />
                  </li>
                ))}
                {over?.statusId === status.id && over.index >= list.length && <DropMarker />}
              </ol>
            </section>
          );
        })}
      </div>
      <CreateTaskDialog
        open={creating}
        onClose={() => setCreating(false)}
        statuses={statuses}
        members={members.data}
        onCreated={setOpenId}
      />
      {openId && (
        <TaskDrawer
          taskId={openId}
          statuses={statuses}
          members={members.data}
          onClose={() => setOpenId(null)}
          onOpen={setOpenId}
        />
      )}
      <WorkflowDialog
        open={showWorkflow}
        onClose={() => setShowWorkflow(false)}
        statuses={statuses}
        canManage={can(role, "workflows.manage")}
      />
    </div>
  );
}

function DropMarker() {
  return <div className="mb-2 h-0.5 rounded bg-accent-500" />;
}

/** The slot under the pointer: before the first card whose middle is below it. */
function dropIndex(e: DragEvent, count: number): number {
  const items = (e.currentTarget as HTMLElement).querySelectorAll<HTMLElement>("li[data-index]");
  for (const item of items) {
    const box = item.getBoundingClientRect();
    if (e.clientY < box.top + box.height / 2) return Number(item.dataset.index);
  }
  return count;
}

/** Why a card may not go where it was dropped. */
function notAllowed(
  to: WorkflowStatus,
  statuses: readonly WorkflowStatus[],
  from: WorkflowStatus | undefined,
  details?: unknown,
): string {
  // The server names the allowed targets; without its answer the workflow held by the board does.
  const given = (details as { allowed?: Array<{ name?: string | null }> } | undefined)?.allowed;
  const names = Array.isArray(given)
    ? given.map((s) => s.name).filter((n): n is string => !!n)
    : statuses.filter((s) => from?.transitions.includes(s.id)).map((s) => s.name);
  return `Cannot move from ${from?.name ?? "here"} to ${to.name}.${names.length ? ` Allowed: ${names.join(", ")}.` : ""}`;
}
