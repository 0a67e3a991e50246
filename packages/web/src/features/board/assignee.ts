import type { TaskAssignee } from "@kiln/protocol";

/** Assignees as one select value: "" none, "agent", or "member:<userId>". */
export function assigneeValue(a: TaskAssignee | null): string {
  if (!a) return "";
  return a.type === "agent" ? "agent" : `member:${a.userId}`;
}

export function parseAssignee(value: string): TaskAssignee | null {
  if (value === "agent") return { type: "agent" };
  if (value.startsWith("member:")) return { type: "member", userId: value.slice("member:".length) };
  return null;
}

/** "bug, ui ,, ui" → ["bug", "ui"]. */
export function parseLabels(text: string): string[] {
  return [
    ...new Set(
      text
        .split(",")
        .map((l) => l.trim())
        .filter(Boolean),
    ),
  ];
}
