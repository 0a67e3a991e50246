import { routes } from "@kiln/protocol";
import { type BodyOf, call } from "../call.ts";

const c = routes.agents;

/** The org's agent definitions (ADR 0035): the built-in Kiln agent first, then the org's own, each versioned. */
export const agents = {
  list: (org: string) => call(c.list, { params: { org } }),
  get: (org: string, agentId: string) => call(c.get, { params: { org, agentId } }),
  create: (org: string, body: BodyOf<typeof c.create>) => call(c.create, { params: { org }, body }),
  update: (org: string, agentId: string, body: BodyOf<typeof c.update>) =>
    call(c.update, { params: { org, agentId }, body }),
  archive: (org: string, agentId: string) => call(c.archive, { params: { org, agentId } }),
};
