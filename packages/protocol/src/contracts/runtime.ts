import { z } from "zod";
import { LogLine, LogsQuery, PreviewSession, RuntimeStatus } from "../runtime.ts";
import { defineRoute } from "./define.ts";
import { ProjectParams } from "./params.ts";

const tags = ["runtime"];
const PROJECT = "/api/orgs/:org/projects/:project";

/** Start, stop and restart answer the same way. */
const act = {
  method: "POST",
  tags,
  permission: "projects.write",
  params: ProjectParams,
  response: RuntimeStatus,
  errors: ["project_not_found"],
} as const;

/** The project's dev server (`/runtime` is the wire's name for it) and the preview's sign-in link. */
export const runtime = {
  status: defineRoute({
    method: "GET",
    path: `${PROJECT}/runtime`,
    summary: "Dev server status",
    tags,
    permission: "projects.read",
    params: ProjectParams,
    response: RuntimeStatus,
    errors: ["project_not_found"],
  }),
  start: defineRoute({ ...act, path: `${PROJECT}/runtime/start`, summary: "Start the dev server" }),
  stop: defineRoute({ ...act, path: `${PROJECT}/runtime/stop`, summary: "Stop the dev server" }),
  restart: defineRoute({ ...act, path: `${PROJECT}/runtime/restart`, summary: "Restart the dev server" }),
  logs: defineRoute({
    method: "GET",
    path: `${PROJECT}/runtime/logs`,
    summary: "Dev server output: JSON lines, or a live stream with Accept: text/event-stream",
    tags,
    permission: "projects.read",
    params: ProjectParams,
    query: LogsQuery,
    response: z.array(LogLine),
    errors: ["project_not_found"],
  }),
  // Signing in to look at the preview is a read.
  previewSession: defineRoute({
    method: "POST",
    path: `${PROJECT}/preview-session`,
    summary: "A one-minute link that signs this browser in to the (private) preview",
    tags,
    permission: "projects.read",
    params: ProjectParams,
    response: PreviewSession,
    errors: ["project_not_found"],
  }),
};
