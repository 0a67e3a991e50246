import type { Agent, Member, TaskActivity as TaskActivityEntry, TaskActor } from "@kiln/protocol";
import { useQuery } from "@tanstack/react-query";
import { useProject } from "../../state/project-context.tsx";
import { actorName } from "./actor-name.ts";
import { useJobAgentName, useOrgAgents } from "./agent-options.tsx";
import { agentLabel } from "./assignee.ts";
import { DrawerSection } from "./drawer-section.tsx";
import { activityQuery } from "./queries.ts";

function describeActivity(
  a: TaskActivityEntry,
  members: readonly Member[] | undefined,
  agents: readonly Agent[] | undefined,
): string {
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
      const to = a.to as
        | TaskActor
        | { type: "member"; userId: string }
        | { type: "agent"; agentId?: string }
        | null;
      if (!to) return "unassigned it";
      if (to.type === "agent") {
        const agentId = "agentId" in to ? to.agentId : undefined;
        return `assigned it to the agent ${agentLabel(agentId, agents)}`;
      }
      return `assigned it to ${actorName(to as TaskActor, members)}`;
    }
    default:
      return a.message ?? a.kind.replaceAll("_", " ");
  }
}

/** What happened to a task, oldest first. */
export function TaskActivity({
  taskId,
  members,
}: {
  taskId: string;
  members: readonly Member[] | undefined;
}) {
  const { org, project } = useProject();
  const activity = useQuery(activityQuery(org, project, taskId));
  const agents = useOrgAgents();
  const jobAgent = useJobAgentName(taskId);
  return (
    <DrawerSection title="Activity">
      <ol className="flex flex-col gap-1 text-xs text-neutral-400">
        {activity.data?.map((a) => (
          <li key={a.id}>
            <span className="text-neutral-300">{actorName(a.actor, members, jobAgent)}</span>{" "}
            {describeActivity(a, members, agents)}
            <span className="text-neutral-600"> · {new Date(a.createdAt).toLocaleTimeString()}</span>
          </li>
        ))}
      </ol>
    </DrawerSection>
  );
}
