import { type Agent, BUILTIN_AGENT_ID, type TaskAssignee } from "@kiln/protocol";

/**
 * Assignees as one select value: "" none, "agent" (Kiln's built-in agent), "agent:<agentId>" (one of the
 * org's agents) or "member:<userId>".
 */
export function assigneeValue(a: TaskAssignee | null): string {
  if (!a) return "";
  if (a.type === "member") return `member:${a.userId}`;
  return agentValue(a.agentId);
}

/** An agent as a select value: the built-in (or none named) is "agent". */
export function agentValue(agentId: string | undefined | null): string {
  return agentId && agentId !== BUILTIN_AGENT_ID ? `agent:${agentId}` : "agent";
}

export function parseAssignee(value: string): TaskAssignee | null {
  if (value === "agent") return { type: "agent" };
  if (value.startsWith("agent:")) return { type: "agent", agentId: value.slice("agent:".length) };
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

/** "✏️ Copy editor": an agent's icon and name; "Agent" when it is not (or not yet) known. */
export function agentLabel(agentId: string | undefined | null, agents: readonly Agent[] | undefined): string {
  const id = agentId ?? BUILTIN_AGENT_ID;
  const a = agents?.find((x) => x.id === id);
  return a ? `${a.icon} ${a.name}` : "Agent";
}
