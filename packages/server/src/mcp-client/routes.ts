import { routes } from "@kiln/protocol";
import type { OrgRouter } from "../orgs/router.ts";
import type { McpServerService } from "./service.ts";

export function mcpServerRoutes(router: OrgRouter, servers: McpServerService): void {
  const c = routes.mcpServers;
  router.handle(c.list, async (request) => servers.list(request.scope));
  router.handle(c.get, async (request) => servers.get(request.scope, request.params.serverId));
  router.handle(c.create, async (request) => servers.create(request.scope, request.body));
  router.handle(c.update, async (request) =>
    servers.update(request.scope, request.params.serverId, request.body),
  );
  router.handle(c.remove, async (request) => {
    await servers.remove(request.scope, request.params.serverId);
    return undefined;
  });
}
