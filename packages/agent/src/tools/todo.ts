import { TodoItem } from "@kiln/protocol";
import { z } from "zod";
import { defineTool, type ToolContext } from "../tool.ts";

const STATE_KEY = "todos";

function current(ctx: ToolContext): TodoItem[] {
  return (ctx.state.get(STATE_KEY) as TodoItem[] | undefined) ?? [];
}

function format(todos: TodoItem[]): string {
  if (todos.length === 0) return "The todo list is empty.";
  const mark = { pending: "[ ]", in_progress: "[~]", completed: "[x]", cancelled: "[-]" } as const;
  return todos.map((t) => `${mark[t.status]} ${t.id}: ${t.content}`).join("\n");
}

export const todoWriteTool = defineTool({
  name: "todo_write",
  description:
    "Replace your todo list for this task: plan multi-step work, mark one item in_progress at a time and completed " +
    "as soon as it is done. The user sees the list.",
  input: z.object({
    todos: z
      .array(
        z.object({
          id: z.string().min(1).max(64).describe("Short stable id, e.g. 1 or setup-router"),
          content: z.string().min(1).max(500).describe("What to do, imperative"),
          status: TodoItem.shape.status.describe("pending, in_progress, completed or cancelled"),
        }),
      )
      .max(100)
      .describe("The whole list (replaces the previous one)"),
  }),
  mutates: false,
  async execute(input, ctx) {
    const ids = new Set<string>();
    for (const t of input.todos) {
      if (ids.has(t.id)) return { output: `Duplicate todo id "${t.id}"; ids must be unique.`, isError: true };
      ids.add(t.id);
    }
    ctx.state.set(STATE_KEY, input.todos);
    ctx.emit({ type: "todos", messageId: ctx.messageId, todos: input.todos });
    return { output: `Todo list updated:\n${format(input.todos)}`, metadata: { todos: input.todos } };
  },
});

export const todoReadTool = defineTool({
  name: "todo_read",
  description: "Show your current todo list for this task.",
  input: z.object({}),
  mutates: false,
  async execute(_input, ctx) {
    const todos = current(ctx);
    return { output: format(todos), metadata: { todos } };
  },
});
