import type { Task, WorkflowStatus } from "@kiln/protocol";

/** Tasks per status id, each column in position order (positions compare byte-wise, not by locale). */
export function columns(statuses: readonly WorkflowStatus[], tasks: readonly Task[]): Map<string, Task[]> {
  const byStatus = new Map<string, Task[]>(statuses.map((s) => [s.id, []]));
  for (const task of tasks) byStatus.get(task.statusId)?.push(task);
  for (const list of byStatus.values())
    list.sort((a, b) => (a.position < b.position ? -1 : a.position > b.position ? 1 : 0));
  return byStatus;
}

/** Whether a task in `from` may be dropped on `to`: its own column always, others as the workflow allows. */
export function canMove(from: WorkflowStatus | undefined, toId: string): boolean {
  return !from || from.id === toId || from.transitions.includes(toId);
}

/**
 * The move request for dropping `taskId` at `index` of a column (index counted in the column as shown,
 * the dragged task included when it is already there).
 */
export function placement(
  column: readonly Task[],
  taskId: string,
  index: number,
): { afterId: string | null } {
  const others = column.filter((t) => t.id !== taskId);
  const before = column.slice(0, index).filter((t) => t.id !== taskId).length;
  return { afterId: before === 0 ? null : others[before - 1]!.id };
}

/** Task with the card moved locally, so the board does not wait for the server to show the drop. */
export function moveLocally(
  tasks: readonly Task[],
  taskId: string,
  statusId: string,
  afterId: string | null,
  column: readonly Task[],
): Task[] {
  const others = column.filter((t) => t.id !== taskId);
  const at = afterId === null ? 0 : others.findIndex((t) => t.id === afterId) + 1;
  const prev = others[at - 1]?.position;
  // Sorts right after the previous card (or before every other one) until the server's answer lands.
  const position = prev === undefined ? "" : `${prev}\u0001`;
  return tasks.map((t) => (t.id === taskId ? { ...t, statusId, position } : t));
}

export const STATUS_SWATCH: Record<string, string> = {
  gray: "bg-neutral-400",
  blue: "bg-blue-400",
  cyan: "bg-cyan-400",
  green: "bg-emerald-400",
  yellow: "bg-yellow-400",
  orange: "bg-orange-400",
  red: "bg-red-400",
  purple: "bg-purple-400",
  pink: "bg-pink-400",
};
