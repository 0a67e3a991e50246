import type { Job, Member, Task, TaskActivity, TaskActor, WorkflowStatus } from "@kiln/protocol";
import { FINAL_JOB_STATES } from "@kiln/protocol";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useEffect, useState } from "react";
import Markdown from "react-markdown";
import { api } from "../../api/endpoints.ts";
import { describeError } from "../../api/errors.ts";
import { useProject } from "../../state/project-context.tsx";
import { Button, IconButton } from "../../ui/button.tsx";
import { cn } from "../../ui/cn.ts";
import { confirmDialog } from "../../ui/confirm.tsx";
import { CloseIcon, PencilIcon, TrashIcon } from "../../ui/icons.tsx";
import { LoadingBlock } from "../../ui/spinner.tsx";
import { toast } from "../../ui/toast.tsx";
import { JobLog } from "./job-log.tsx";
import { STATUS_SWATCH } from "./order.ts";
import { activityQuery, commentsQuery, taskJobsQuery, taskKey, tasksKey, tasksQuery } from "./queries.ts";
import { ReviewPanel } from "./review-panel.tsx";
import { assigneeName } from "./task-card.tsx";
import { TaskEditor } from "./task-editor.tsx";
import { TaskFields } from "./task-fields.tsx";

/**
 * One task beside the board: description (edited in place), the agent's work up for review, its jobs with
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
  const qc = useQueryClient();
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
    try {
      await api.tasks.remove(org, project, task.id);
      toast.success(`Deleted #${task.number}`);
      onClose();
    } catch (err) {
      toast.error(`Could not delete #${task.number}: ${describeError(err)}`);
    } finally {
      await qc.invalidateQueries({ queryKey: tasksKey(org, project) });
    }
  };

  return (
    <aside
      aria-label={task ? `Task #${task.number}` : "Task"}
      className="fixed inset-y-0 right-0 z-40 flex w-[36rem] max-w-full flex-col border-l border-line bg-surface-1 shadow-2xl"
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
                <span>{assigneeName(task, members) ?? "Unassigned"}</span>
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
            <Related parent={parent} subtasks={subtasks} statuses={statuses} onOpen={onOpen} />
          )}
          {status?.group === "review" && <ReviewPanel task={task} />}
          <Jobs taskId={task.id} showResult={status?.group !== "review"} />
          <Comments taskId={task.id} members={members} />
          <Activity taskId={task.id} members={members} />
        </div>
      )}
    </aside>
  );
}

function Section({ title, children }: { title: string; children: React.ReactNode }) {
  return (
    <section aria-label={title} className="flex flex-col gap-2">
      <h3 className="text-xs font-medium tracking-wide text-neutral-400 uppercase">{title}</h3>
      {children}
    </section>
  );
}

/** The task's parent and subtasks, each a way to open it in the drawer. */
function Related({
  parent,
  subtasks,
  statuses,
  onOpen,
}: {
  parent: Task | undefined;
  subtasks: readonly Task[];
  statuses: readonly WorkflowStatus[];
  onOpen: (taskId: string) => void;
}) {
  const link = (t: Task) => {
    const s = statuses.find((x) => x.id === t.statusId);
    return (
      <button
        type="button"
        onClick={() => onOpen(t.id)}
        className="flex min-w-0 items-center gap-1.5 text-left text-xs text-neutral-300 hover:text-neutral-100"
      >
        {s && <span className={cn("size-1.5 shrink-0 rounded-full", STATUS_SWATCH[s.color])} />}
        <span className="shrink-0 font-mono text-neutral-500">#{t.number}</span>
        <span className="truncate">{t.title}</span>
      </button>
    );
  };
  return (
    <div className="flex flex-col gap-1">
      {parent && (
        <p className="flex items-center gap-2 text-xs text-neutral-500">Subtask of {link(parent)}</p>
      )}
      {subtasks.length > 0 && (
        <Section title="Subtasks">
          <ul className="flex flex-col gap-1">
            {subtasks.map((t) => (
              <li key={t.id}>{link(t)}</li>
            ))}
          </ul>
        </Section>
      )}
    </div>
  );
}

function Jobs({ taskId, showResult }: { taskId: string; showResult: boolean }) {
  const { org } = useProject();
  const qc = useQueryClient();
  const jobs = useQuery(taskJobsQuery(org, taskId));
  const [shown, setShown] = useState<string | null>(null);
  const list = jobs.data ?? [];
  // The branch and summary of the work itself; a review's findings are in the comments and its log.
  const lastDone = list.find((j) => j.result && j.kind !== "review") ?? list.find((j) => j.result);
  // A job still at work is the interesting one; otherwise the newest.
  const active = list.find((j) => !FINAL_JOB_STATES.includes(j.state));
  const current = list.find((j) => j.id === shown) ?? active ?? list[0];

  const cancel = async (job: Job) => {
    try {
      await api.jobs.cancel(org, job.id);
      await qc.invalidateQueries({ queryKey: taskJobsQuery(org, taskId).queryKey });
    } catch (err) {
      toast.error(`Could not cancel: ${describeError(err)}`);
    }
  };

  return (
    <Section title="Agent jobs">
      {showResult && lastDone?.result && (
        <div
          data-testid="job-result"
          className="rounded-md border border-emerald-500/25 bg-emerald-500/5 p-2 text-[13px]"
        >
          {lastDone.result.branch && (
            <p className="text-xs text-neutral-400">
              Branch <code className="font-mono text-emerald-300">{lastDone.result.branch}</code>
            </p>
          )}
          <div className="prose-kiln mt-1 text-neutral-200">
            <Markdown>{lastDone.result.summary}</Markdown>
          </div>
        </div>
      )}
      {list.length === 0 && <p className="text-xs text-neutral-600">No jobs yet.</p>}
      {list.length > 0 && (
        <ul className="flex flex-wrap gap-1">
          {list.map((job) => (
            <li key={job.id}>
              <button
                type="button"
                onClick={() => setShown(job.id)}
                aria-pressed={job.id === current?.id}
                className={cn(
                  "rounded border px-1.5 py-0.5 text-[11px]",
                  job.id === current?.id
                    ? "border-accent-500 text-neutral-100"
                    : "border-line text-neutral-400",
                )}
              >
                {job.kind} · <span data-testid="job-state">{job.state}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
      {current && (
        <>
          <div className="flex items-center gap-2 text-xs text-neutral-500">
            <span>
              Attempt {current.attempt}/{current.maxAttempts}
            </span>
            {current.failure && <span className="text-red-300">{current.failure.message}</span>}
            {!FINAL_JOB_STATES.includes(current.state) && (
              <Button
                size="xs"
                variant="danger"
                className="ml-auto"
                disabled={current.cancelRequested}
                onClick={() => void cancel(current)}
              >
                {current.cancelRequested ? "Cancelling…" : "Cancel job"}
              </Button>
            )}
          </div>
          <JobLog key={current.id} org={org} job={current} />
        </>
      )}
    </Section>
  );
}

function actorName(actor: TaskActor, members: readonly Member[] | undefined): string {
  switch (actor.type) {
    case "member": {
      const m = members?.find((x) => x.userId === actor.userId);
      return m?.name || m?.email || "A member";
    }
    case "agent":
      return "Agent";
    case "automation":
      return "Automation";
    case "system":
      return "Kiln";
  }
}

function Comments({ taskId, members }: { taskId: string; members: readonly Member[] | undefined }) {
  const { org, project, canWrite } = useProject();
  const qc = useQueryClient();
  const comments = useQuery(commentsQuery(org, project, taskId));
  const [body, setBody] = useState("");
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!body.trim()) return;
    setBusy(true);
    try {
      await api.tasks.comment(org, project, taskId, body);
      setBody("");
      await qc.invalidateQueries({ queryKey: taskKey(org, project, taskId) });
    } catch (err) {
      toast.error(`Could not comment: ${describeError(err)}`);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Section title="Comments">
      <ol className="flex flex-col gap-2">
        {comments.data?.map((c) => (
          <li
            key={c.id}
            data-testid="comment"
            className="rounded-md border border-line bg-surface-2 px-3 py-2"
          >
            <p className="text-[11px] text-neutral-500">
              <span className={c.author.type === "agent" ? "text-purple-300" : "text-neutral-300"}>
                {actorName(c.author, members)}
              </span>{" "}
              · {new Date(c.createdAt).toLocaleString()}
            </p>
            <div className="prose-kiln mt-1 text-[13px] text-neutral-200">
              <Markdown>{c.body}</Markdown>
            </div>
          </li>
        ))}
        {comments.data?.length === 0 && <li className="text-xs text-neutral-600">No comments yet.</li>}
      </ol>
      {canWrite && (
        <form onSubmit={submit} className="flex flex-col gap-2">
          <textarea
            aria-label="Add a comment"
            value={body}
            onChange={(e) => setBody(e.target.value)}
            rows={3}
            placeholder="Add a comment (markdown)"
            className="w-full rounded-md border border-line bg-surface-0 px-2.5 py-2 text-sm text-neutral-100 focus:border-accent-500 focus:outline-none"
          />
          <Button type="submit" size="sm" className="self-end" loading={busy} disabled={!body.trim()}>
            Comment
          </Button>
        </form>
      )}
    </Section>
  );
}

function describeActivity(a: TaskActivity, members: readonly Member[] | undefined): string {
  const name = (v: unknown) => (v && typeof v === "object" && "name" in v ? String(v.name) : null);
  const text = (v: unknown) => (typeof v === "string" ? v : null);
  switch (a.kind) {
    case "moved":
      return `moved it from ${name(a.from) ?? "?"} to ${name(a.to) ?? "?"}`;
    case "created":
      return "created it";
    case "title_changed":
      return text(a.to) ? `renamed it to “${text(a.to)}”` : "renamed it";
    case "description_changed":
      return "edited the description";
    case "priority_changed":
      return a.to === "none" ? "cleared the priority" : `set the priority to ${text(a.to) ?? "?"}`;
    case "labels_changed":
      return Array.isArray(a.to) && a.to.length > 0
        ? `set the labels to ${a.to.join(", ")}`
        : "removed the labels";
    case "assignee_changed": {
      const to = a.to as TaskActor | { type: "member"; userId: string } | null;
      if (!to) return "unassigned it";
      return `assigned it to ${to.type === "agent" ? "the agent" : actorName(to as TaskActor, members)}`;
    }
    default:
      return a.message ?? a.kind.replaceAll("_", " ");
  }
}

function Activity({ taskId, members }: { taskId: string; members: readonly Member[] | undefined }) {
  const { org, project } = useProject();
  const activity = useQuery(activityQuery(org, project, taskId));
  return (
    <Section title="Activity">
      <ol className="flex flex-col gap-1 text-xs text-neutral-400">
        {activity.data?.map((a) => (
          <li key={a.id}>
            <span className="text-neutral-300">{actorName(a.actor, members)}</span>{" "}
            {describeActivity(a, members)}
            <span className="text-neutral-600"> · {new Date(a.createdAt).toLocaleTimeString()}</span>
          </li>
        ))}
      </ol>
    </Section>
  );
}
