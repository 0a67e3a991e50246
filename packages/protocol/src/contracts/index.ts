import type { AnyRoute } from "./define.ts";
import { files } from "./files.ts";
import { history } from "./history.ts";
import { invitations } from "./invitations.ts";
import { members } from "./members.ts";
import { orgs } from "./orgs.ts";
import { previewErrors } from "./preview-errors.ts";
import { projects } from "./projects.ts";
import { runtime } from "./runtime.ts";
import { terminals } from "./terminals.ts";

export * from "./define.ts";
export * from "./params.ts";

/**
 * Every route of the Kiln API, by domain noun. The server registers one handler per entry
 * (http/contract-router.ts), the studio calls them (web api/), and the sweeps read them.
 */
export const routes = {
  orgs,
  members,
  invitations,
  projects,
  files,
  runtime,
  previewErrors,
  terminals,
  history,
};

/** The routes as one list. */
export function allRoutes(): AnyRoute[] {
  return Object.values(routes).flatMap((group) => Object.values(group) as AnyRoute[]);
}
