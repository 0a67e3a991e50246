import { chats } from "./chats.ts";
import type { AnyRoute } from "./define.ts";
import { invitations } from "./invitations.ts";
import { jobs } from "./jobs.ts";
import { llm } from "./llm.ts";
import { members } from "./members.ts";
import { orgs } from "./orgs.ts";
import { projects } from "./projects.ts";
import { workers } from "./workers.ts";

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
  chats,
  jobs,
  workers,
  llm,
};

/** The routes as one list. */
export function allRoutes(): AnyRoute[] {
  return Object.values(routes).flatMap((group) => Object.values(group) as AnyRoute[]);
}
