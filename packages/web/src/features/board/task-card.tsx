import type { Agent, Job, Member, Task } from "@kiln/protocol";
import type { DragEvent } from "react";
import { cn } from "../../ui/cn.ts";
import { useOrgAgents } from "./agent-options.tsx";
import { agentLabel } from "./assignee.ts";

const PRIORITY: Record<string, string> = {
  urgent: "text-red-300 border-red-500/40",
  high: "text-orange-300 border-orange-500/40",
  medium: "text-yellow-300 border-yellow-500/30",
  low: "text-neutral-400 border-line",
};

const JOB_TONE: Record<string, string> = {
  queued: "bg-neutral-500/15 text-neutral-300",
  dispatched: "bg-blue-500/15 text-blue-300",
  running: "bg-blue-500/15 text-blue-300",
  completed: "bg-emerald-500/15 text-emerald-300",
  failed: "bg-red-500/15 text-red-300",
  cancelled: "bg-neutral-500/15 text-neutral-400",
};

export function assigneeName(
  task: Task,
  members: readonly Member[] | undefined,
  agents: readonly Agent[] | undefined,
): string | null {
  if (!task.assignee) return null;
  if (task.assignee.type === "agent") return agentLabel(task.assignee.agentId, agents);
  const userId = task.assignee.userId;
  const m = members?.find((x) => x.userId === userId);
  return m?.name || m?.email || "Member";
}

export function TaskCard({
  task,
  job,
  members,
  dragging,
  onOpen,
  onDragStart,
  onDragEnd,
}: {
  task: Task;
  job: Job | undefined;
  members: readonly Member[] | undefined;
  dragging: boolean;
  onOpen: () => void;
  onDragStart: (e: DragEvent) => void;
  onDragEnd: () => void;
}) {
  const agents = useOrgAgents();
  const who = assigneeName(task, members, agents);
  return (
    <button
      type="button"
      draggable
      data-task-id={task.id}
      data-testid="task-card"
      onClick={onOpen}
      onDragStart={onDragStart}
      onDragEnd={onDragEnd}
      className={cn(
        "flex w-full cursor-grab flex-col gap-1.5 rounded-md border border-line bg-surface-2 p-2 text-left hover:border-neutral-600",
        dragging && "opacity-40",
      )}
    >
      <span className="flex items-start gap-1.5 text-[13px] text-neutral-100">
        <span className="shrink-0 font-mono text-[11px] text-neutral-500">#{task.number}</span>
        <span className="min-w-0 break-words">{task.title}</span>
      </span>
      <span className="flex flex-wrap items-center gap-1 text-[11px]">
        {task.priority !== "none" && (
          <span className={cn("rounded border px-1", PRIORITY[task.priority])}>{task.priority}</span>
        )}
        {task.labels.map((l) => (
          <span key={l} className="rounded bg-accent-600/15 px-1 text-accent-300">
            {l}
          </span>
        ))}
        {job && (
          <span data-testid="job-badge" className={cn("rounded px-1", JOB_TONE[job.state])}>
            {job.kind} · {job.state}
          </span>
        )}
        {who && (
          <span
            data-testid="task-assignee"
            className={cn(
              "ml-auto truncate",
              task.assignee?.type === "agent" ? "text-purple-300" : "text-neutral-400",
            )}
          >
            {who}
          </span>
        )}
      </span>
    </button>
  );
}
