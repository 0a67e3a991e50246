import type { Task, WorkflowStatus } from "@kiln/protocol";
import { describe, expect, it } from "vitest";
import { canMove, columns, moveLocally, placement } from "./order.ts";

const status = (id: string, transitions: string[]): WorkflowStatus => ({
  id,
  name: id,
  group: "unstarted",
  color: "blue",
  position: 0,
  transitions,
});
const task = (id: string, statusId: string, position: string) => ({ id, statusId, position }) as Task;

describe("board order", () => {
  it("groups tasks by status in byte-wise position order", () => {
    const cols = columns(
      [status("a", []), status("b", [])],
      [task("2", "a", "b"), task("1", "a", "B"), task("3", "b", "a")],
    );
    expect(cols.get("a")!.map((t) => t.id)).toEqual(["1", "2"]);
    expect(cols.get("b")!.map((t) => t.id)).toEqual(["3"]);
  });

  it("allows the own column and the workflow's transitions only", () => {
    const todo = status("todo", ["doing"]);
    expect(canMove(todo, "todo")).toBe(true);
    expect(canMove(todo, "doing")).toBe(true);
    expect(canMove(todo, "done")).toBe(false);
  });

  it("places a drop after the card above it, ignoring the dragged card itself", () => {
    const col = [task("x", "a", "a"), task("y", "a", "b"), task("z", "a", "c")];
    expect(placement(col, "new", 0)).toEqual({ afterId: null });
    expect(placement(col, "new", 2)).toEqual({ afterId: "y" });
    expect(placement(col, "x", 2)).toEqual({ afterId: "y" });
    expect(placement(col, "z", 3)).toEqual({ afterId: "y" });
  });

  it("shows a local move in place before the server answers", () => {
    const col = [task("x", "a", "a"), task("y", "a", "b")];
    const all = [...col, task("m", "b", "a")];
    const moved = moveLocally(all, "m", "a", "x", col);
    expect(
      columns([status("a", []), status("b", [])], moved)
        .get("a")!
        .map((t) => t.id),
    ).toEqual(["x", "m", "y"]);
    const top = moveLocally(all, "m", "a", null, col);
    expect(
      columns([status("a", []), status("b", [])], top)
        .get("a")!
        .map((t) => t.id),
    ).toEqual(["m", "x", "y"]);
  });
});
