import { routes } from "@kiln/protocol";
import { type BodyOf, call } from "../call.ts";

const c = routes.mcpServers;

/** The org's MCP servers (ADR 0039): extra tools its agents may be given; headers and env never come back. */
export const mcpServers = {
  list: (org: string) => call(c.list, { params: { org } }),
  create: (org: string, body: BodyOf<typeof c.create>) => call(c.create, { params: { org }, body }),
  update: (org: string, serverId: string, body: BodyOf<typeof c.update>) =>
    call(c.update, { params: { org, serverId }, body }),
  remove: (org: string, serverId: string) => call(c.remove, { params: { org, serverId } }),
};
