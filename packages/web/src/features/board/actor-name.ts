import type { Member, TaskActor } from "@kiln/protocol";

/** Who did something to a task, for a person to read. */
export function actorName(actor: TaskActor, members: readonly Member[] | undefined): string {
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
