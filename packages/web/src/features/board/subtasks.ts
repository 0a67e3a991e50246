import type { Task } from "@kiln/protocol";

/** Every task below `rootId` through parent links (children, their children, …), not the root itself. */
export function descendantIds(tasks: readonly Pick<Task, "id" | "parentId">[], rootId: string): Set<string> {
  const children = new Map<string, string[]>();
  for (const t of tasks) {
    if (!t.parentId) continue;
    const list = children.get(t.parentId) ?? [];
    list.push(t.id);
    children.set(t.parentId, list);
  }
  const found = new Set<string>();
  const queue = [...(children.get(rootId) ?? [])];
  // A loop in the data (the server forbids them) must not spin here: each id is visited once.
  while (queue.length > 0) {
    const id = queue.pop()!;
    if (found.has(id) || id === rootId) continue;
    found.add(id);
    queue.push(...(children.get(id) ?? []));
  }
  return found;
}
