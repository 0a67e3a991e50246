import { z } from "zod";
import { EnvVar, EnvVarName, EnvVarRemoved, EnvVarSaved, SetEnvVarBody } from "../project-env.ts";
import { defineRoute } from "./define.ts";
import { ProjectParams } from "./params.ts";

const tags = ["projects"];
const ENV = "/api/orgs/:org/projects/:project/env";

/**
 * A project's environment variables: given to its dev server, terminals and the agent's commands, stored
 * sealed, never written into the repository. A secret's value never leaves the server through the API.
 */
export const projectEnv = {
  list: defineRoute({
    method: "GET",
    path: ENV,
    summary: "A project's environment variables (values of plain ones; secrets only as a hint)",
    tags,
    // Every member sees which variables exist; values and hints need projects.write (the service decides).
    permission: "projects.read",
    params: ProjectParams,
    response: z.array(EnvVar),
    errors: ["project_not_found"],
  }),
  set: defineRoute({
    method: "PUT",
    path: ENV,
    summary: "Set or replace an environment variable; a running dev server restarts to see it",
    tags,
    permission: "projects.write",
    params: ProjectParams,
    body: SetEnvVarBody,
    response: EnvVarSaved,
    errors: ["project_not_found", "env_var_reserved", "too_many_env_vars"],
  }),
  remove: defineRoute({
    method: "DELETE",
    path: `${ENV}/:variable`,
    summary: "Remove an environment variable; a running dev server restarts without it",
    tags,
    permission: "projects.write",
    params: ProjectParams.extend({ variable: EnvVarName }),
    response: EnvVarRemoved,
    errors: ["project_not_found", "env_var_not_found"],
  }),
};
