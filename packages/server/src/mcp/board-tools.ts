import { routes } from "@kiln/protocol";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { TaskService } from "../board/tasks/service.ts";
import type { WorkflowService } from "../board/workflows/service.ts";
import { orgTool, type ToolContext } from "./tool.ts";

/** The task board: its statuses, its tasks, and what a member may do to them. */
export function boardTools(
  server: McpServer,
  ctx: ToolContext,
  deps: { tasks: TaskService; workflows: WorkflowService },
): void {
  const t = routes.tasks;
  orgTool(server, ctx, "get_workflow", {
    route: routes.workflows.get,
    description: "The board's statuses (columns) in order, with their ids and the allowed transitions",
    run: (scope, params) => deps.workflows.get(scope, params.project),
  });
  orgTool(server, ctx, "list_tasks", {
    route: t.list,
    description: "The board's tasks in board order, optionally filtered by status, assignee, label or words",
    run: (scope, params, query) => deps.tasks.list(scope, params.project, query),
  });
  orgTool(server, ctx, "get_task", {
    route: t.get,
    description: "One task",
    run: (scope, params) => deps.tasks.get(scope, params.project, params.taskId),
  });
  orgTool(server, ctx, "create_task", {
    route: t.create,
    description:
      "Create a task on the board (in the workflow's first status unless `statusId` says otherwise)",
    run: (scope, params, body) => deps.tasks.create(scope, params.project, body),
  });
  orgTool(server, ctx, "update_task", {
    route: t.update,
    description: "Edit a task's title, description, priority, assignee, labels or parent",
    run: (scope, params, body) => deps.tasks.update(scope, params.project, params.taskId, body),
  });
  orgTool(server, ctx, "move_task", {
    route: t.move,
    description: "Move a task to a status (a column of get_workflow), where the workflow allows it",
    run: (scope, params, body) => deps.tasks.move(scope, params.project, params.taskId, body),
  });
  orgTool(server, ctx, "list_task_comments", {
    route: t.comments,
    description: "A task's comments, oldest first",
    run: (scope, params) => deps.tasks.comments(scope, params.project, params.taskId),
  });
  orgTool(server, ctx, "comment_on_task", {
    route: t.comment,
    description: "Comment on a task (Markdown; @handles mention members)",
    run: (scope, params, body) => deps.tasks.comment(scope, params.project, params.taskId, body),
  });
}
