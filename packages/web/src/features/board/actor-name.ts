import type { Member, TaskActor } from "@kiln/protocol";

/**
 * Who did something to a task, for a person to read. An agent is named by the job it ran in
 * (`jobAgent`: "✏️ Copy editor"), when that job is known.
 */
export function actorName(
  actor: TaskActor,
  members: readonly Member[] | undefined,
  jobAgent?: (jobId: string | null) => string | undefined,
): string {
  switch (actor.type) {
    case "member": {
      const m = members?.find((x) => x.userId === actor.userId);
      return m?.name || m?.email || "A member";
    }
    case "agent":
      return jobAgent?.(actor.jobId) ?? "Agent";
    case "automation":
      return "Automation";
    case "system":
      return "Kiln";
  }
}
