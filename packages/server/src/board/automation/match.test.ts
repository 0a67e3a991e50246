import type { Task } from "@kiln/protocol";
import { describe, expect, it } from "vitest";
import { conditionsHold, statusIdsIn, triggerMatches } from "./match.ts";

const A = "00000000-0000-4000-8000-00000000000a";
const B = "00000000-0000-4000-8000-00000000000b";

const task = (over: Partial<Task> = {}): Task => ({
  id: A,
  projectId: A,
  number: 1,
  title: "t",
  description: "",
  statusId: A,
  priority: "none",
  assignee: null,
  labels: [],
  parentId: null,
  position: "a0",
  createdBy: null,
  createdAt: new Date(0).toISOString(),
  updatedAt: new Date(0).toISOString(),
  ...over,
});

describe("triggers", () => {
  it("match their event type, and a move only into the status they name", () => {
    const moved = { type: "task_moved", taskId: A, fromStatus: A, toStatus: B } as const;
    expect(triggerMatches({ type: "task_moved" }, moved)).toBe(true);
    expect(triggerMatches({ type: "task_moved", toStatus: B }, moved)).toBe(true);
    expect(triggerMatches({ type: "task_moved", toStatus: A }, moved)).toBe(false);
    expect(triggerMatches({ type: "task_created" }, moved)).toBe(false);
    expect(
      triggerMatches({ type: "task_commented" }, { type: "task_commented", taskId: A, commentId: B }),
    ).toBe(true);
  });
});

describe("conditions", () => {
  it("all hold: every label, one of the priorities, the assignee type", () => {
    const t = task({ labels: ["bug", "ui"], priority: "high", assignee: { type: "agent" } });
    expect(conditionsHold({}, t)).toBe(true);
    expect(conditionsHold({ labelsInclude: ["bug"] }, t)).toBe(true);
    expect(conditionsHold({ labelsInclude: ["bug", "api"] }, t)).toBe(false);
    expect(conditionsHold({ priorityIn: ["high", "urgent"] }, t)).toBe(true);
    expect(conditionsHold({ priorityIn: ["low"] }, t)).toBe(false);
    expect(conditionsHold({ assigneeType: "agent" }, t)).toBe(true);
    expect(conditionsHold({ assigneeType: "member" }, t)).toBe(false);
    expect(conditionsHold({ assigneeType: "none" }, task())).toBe(true);
    expect(conditionsHold({ labelsInclude: ["bug"], assigneeType: "none" }, t)).toBe(false);
  });

  it("holds for a task in one of the statuses named", () => {
    expect(conditionsHold({ statusIn: [A, B] }, task({ statusId: B }))).toBe(true);
    expect(conditionsHold({ statusIn: [A] }, task({ statusId: B }))).toBe(false);
    expect(conditionsHold({ statusIn: [] }, task({ statusId: B }))).toBe(true);
  });
});

it("a rule names the statuses of its trigger, its conditions and its move actions", () => {
  expect(
    statusIdsIn({
      trigger: { type: "task_moved", toStatus: A.toUpperCase() },
      conditions: { statusIn: [B] },
      actions: [
        { type: "move", statusId: B },
        { type: "comment", text: "x" },
      ],
    }),
  ).toEqual([A, B, B]);
});
