import { describe, expect, it } from "vitest";
import { toolHarness } from "../testing/harness.ts";
import { todoReadTool, todoWriteTool } from "./todo.ts";

describe("todo_write / todo_read", () => {
  it("keeps the list for the run and emits it for the UI", async () => {
    const h = toolHarness({} as never);
    expect((await h.call(todoReadTool, {})).output).toBe("The todo list is empty.");
    const todos = [
      { id: "1", content: "Add a counter", status: "in_progress" },
      { id: "2", content: "Write tests", status: "pending" },
    ];
    const written = await h.call(todoWriteTool, { todos });
    expect(written.output).toBe("Todo list updated:\n[~] 1: Add a counter\n[ ] 2: Write tests");
    expect(h.events).toEqual([{ type: "todos", messageId: "msg_test", todos }]);
    expect((await h.call(todoReadTool, {})).output).toBe("[~] 1: Add a counter\n[ ] 2: Write tests");
  });

  it("refuses duplicate ids, unknown statuses and oversized lists", async () => {
    const h = toolHarness({} as never);
    const dup = await h.call(todoWriteTool, {
      todos: [
        { id: "a", content: "x", status: "pending" },
        { id: "a", content: "y", status: "pending" },
      ],
    });
    expect(dup.output).toContain("Duplicate todo id");
    expect(
      (await h.call(todoWriteTool, { todos: [{ id: "a", content: "x", status: "done" }] })).isError,
    ).toBe(true);
    const many = Array.from({ length: 101 }, (_, i) => ({ id: String(i), content: "x", status: "pending" }));
    expect((await h.call(todoWriteTool, { todos: many })).isError).toBe(true);
    expect(h.events).toEqual([]);
  });
});
