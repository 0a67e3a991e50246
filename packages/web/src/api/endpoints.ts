import { auth } from "./endpoints/auth.ts";
import { chats } from "./endpoints/chats.ts";
import { config } from "./endpoints/config.ts";
import { files } from "./endpoints/files.ts";
import { history } from "./endpoints/history.ts";
import { invitations } from "./endpoints/invitations.ts";
import { jobs } from "./endpoints/jobs.ts";
import { llm } from "./endpoints/llm.ts";
import { orgs } from "./endpoints/orgs.ts";
import { previewErrors } from "./endpoints/previewErrors.ts";
import { projectEnv } from "./endpoints/projectEnv.ts";
import { projects } from "./endpoints/projects.ts";
import { runtime } from "./endpoints/runtime.ts";
import { tasks } from "./endpoints/tasks.ts";
import { templates } from "./endpoints/templates.ts";
import { terminals } from "./endpoints/terminals.ts";
import { workers } from "./endpoints/workers.ts";

/** Every API call the studio makes, by domain noun (one file each in endpoints/), typed from the protocol's route contracts. */
export const api = {
  config,
  auth,
  orgs,
  invitations,
  templates,
  projects,
  projectEnv,
  files,
  runtime,
  terminals,
  previewErrors,
  chats,
  history,
  llm,
  tasks,
  jobs,
  workers,
};
