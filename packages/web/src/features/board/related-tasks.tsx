import type { Task, WorkflowStatus } from "@kiln/protocol";
import { cn } from "../../ui/cn.ts";
import { DrawerSection } from "./drawer-section.tsx";
import { STATUS_SWATCH } from "./order.ts";

/** The task's parent and subtasks, each a way to open it in the drawer. */
export function RelatedTasks({
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
        <DrawerSection title="Subtasks">
          <ul className="flex flex-col gap-1">
            {subtasks.map((t) => (
              <li key={t.id}>{link(t)}</li>
            ))}
          </ul>
        </DrawerSection>
      )}
    </div>
  );
}
