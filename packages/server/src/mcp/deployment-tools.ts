import { routes } from "@kiln/protocol";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { DeploymentService } from "../deployments/service.ts";
import { orgTool, type ToolContext } from "./tool.ts";

/** Publishing a project: its deployments, a new one (build and serve), and one's state. */
export function deploymentTools(
  server: McpServer,
  ctx: ToolContext,
  deps: { deployments: DeploymentService },
): void {
  const c = routes.deployments;
  orgTool(server, ctx, "list_deployments", {
    route: c.list,
    description: "A project's deployments, newest first, and which one is live",
    run: (scope, params) => deps.deployments.list(scope, params.project),
  });
  orgTool(server, ctx, "get_deployment", {
    route: c.get,
    description: "One deployment: its state, URL and build result",
    run: (scope, params) => deps.deployments.get(scope, params.project, params.deployment),
  });
  orgTool(server, ctx, "deploy_project", {
    route: c.create,
    description: "Publish the project's current files: build in its sandbox, then serve; poll get_deployment",
    run: (scope, params) => deps.deployments.create(scope, params.project),
  });
}
