import { routes } from "@kiln/protocol";
import { type McpServer, ResourceTemplate } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { ReadResourceResult } from "@modelcontextprotocol/sdk/types.js";
import type { TaskService } from "../board/tasks/service.ts";
import { KilnError } from "../errors/errors.ts";
import { requirePermission } from "../orgs/roles.ts";
import type { ProjectService } from "../projects/service.ts";
import type { ToolContext } from "./tool.ts";

/** A refused read is an MCP error whose message starts with the Kiln code (`project_not_found: …`). */
function refusal(err: unknown): Error {
  return err instanceof KilnError && err.status < 500
    ? new Error(`${err.code}: ${err.message}`)
    : (err as Error);
}

const json = (uri: URL, value: unknown): ReadResourceResult => ({
  contents: [{ uri: uri.href, mimeType: "application/json", text: JSON.stringify(value) }],
});

/** Read-only views an agent can attach as context: an org's projects and a project's board. */
export function resources(
  server: McpServer,
  ctx: ToolContext,
  deps: { projects: ProjectService; tasks: TaskService },
): void {
  const access = async (org: unknown, permission: Parameters<typeof requirePermission>[1]) => {
    const scope = await ctx.orgs.access(ctx.principal.userId, String(org), ctx.principal);
    requirePermission(scope.role, permission);
    return scope;
  };
  server.registerResource(
    "projects",
    new ResourceTemplate("kiln://orgs/{org}/projects", { list: undefined }),
    { description: "An org's projects (JSON)", mimeType: "application/json" },
    async (uri, { org }) => {
      try {
        const scope = await access(org, routes.projects.list.permission);
        return json(uri, routes.projects.list.response.encode(await deps.projects.list(scope)));
      } catch (err) {
        throw refusal(err);
      }
    },
  );
  server.registerResource(
    "board",
    new ResourceTemplate("kiln://orgs/{org}/projects/{project}/board", { list: undefined }),
    { description: "A project's board: its tasks in board order (JSON)", mimeType: "application/json" },
    async (uri, { org, project }) => {
      try {
        const scope = await access(org, routes.tasks.list.permission);
        const tasks = await deps.tasks.list(scope, String(project), { limit: 500 });
        return json(uri, routes.tasks.list.response.encode(tasks));
      } catch (err) {
        throw refusal(err);
      }
    },
  );
}
