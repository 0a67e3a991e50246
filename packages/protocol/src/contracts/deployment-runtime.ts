import { z } from "zod";
import { DeploymentId } from "../deployments.ts";
import { LogLine, LogsQuery } from "../runtime.ts";
import { defineRoute } from "./define.ts";
import { ProjectParams } from "./params.ts";

const tags = ["deployments"];

/** A published server app's runtime: what its process printed, and its starts, crashes and stops. */
export const deploymentRuntime = {
  log: defineRoute({
    method: "GET",
    path: "/api/orgs/:org/projects/:project/deployments/:deployment/runtime-log",
    summary:
      "A published server app's runtime log on this server: output and restarts, the lines after `since`",
    tags,
    permission: "projects.read",
    params: ProjectParams.extend({ deployment: DeploymentId }),
    query: LogsQuery,
    response: z.array(LogLine),
    errors: ["project_not_found", "deployment_not_found"],
  }),
};
