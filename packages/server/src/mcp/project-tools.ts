import { routes } from "@kiln/protocol";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { ProjectService } from "../projects/service.ts";
import { orgTool, type ToolContext, toolError } from "./tool.ts";

/** Orgs and projects: where an agent finds the slugs every other tool takes. */
export function projectTools(server: McpServer, ctx: ToolContext, deps: { projects: ProjectService }): void {
  server.registerTool(
    "list_orgs",
    {
      description: "The orgs you are a member of, with your role in each (as GET /api/orgs)",
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async () => {
      try {
        const orgs = await ctx.orgs.listForUser(ctx.principal.userId);
        return { content: [{ type: "text", text: JSON.stringify(routes.orgs.list.response.encode(orgs)) }] };
      } catch (err) {
        return toolError(err, ctx.log);
      }
    },
  );
  orgTool(server, ctx, "list_projects", {
    route: routes.projects.list,
    description: "The org's projects",
    run: (scope) => deps.projects.list(scope),
  });
  orgTool(server, ctx, "get_project", {
    route: routes.projects.get,
    description: "One project",
    run: (scope, params) => deps.projects.get(scope, params.project),
  });
}
