import { auth } from "./auth.ts";
import { automation } from "./automation.ts";
import { chats } from "./chats.ts";
import type { AnyRoute } from "./define.ts";
import { files } from "./files.ts";
import { history } from "./history.ts";
import { invitations } from "./invitations.ts";
import { jobs } from "./jobs.ts";
import { llm } from "./llm.ts";
import { members } from "./members.ts";
import { ops } from "./ops.ts";
import { orgs } from "./orgs.ts";
import { previewErrors } from "./preview-errors.ts";
import { projectEnv } from "./project-env.ts";
import { projects } from "./projects.ts";
import { runtime } from "./runtime.ts";
import { tasks } from "./tasks.ts";
import { templates } from "./templates.ts";
import { terminals } from "./terminals.ts";
import { workers } from "./workers.ts";
import { workflows } from "./workflows.ts";

export * from "./define.ts";
export * from "./params.ts";

/**
 * Every route of the Kiln API, by domain noun. The server registers one handler per entry
 * (http/contract-router.ts), the studio calls them (web api/), and the sweeps read them.
 */
export const routes = {
  ops,
  auth,
  orgs,
  members,
  invitations,
  projects,
  projectEnv,
  templates,
  files,
  runtime,
  previewErrors,
  terminals,
  history,
  chats,
  tasks,
  workflows,
  automation,
  jobs,
  workers,
  llm,
};

/** The routes as one list. */
export function allRoutes(): AnyRoute[] {
  return Object.values(routes).flatMap((group) => Object.values(group) as AnyRoute[]);
}
