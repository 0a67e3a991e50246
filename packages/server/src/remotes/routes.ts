import { routes } from "@kiln/protocol";
import type { OrgRouter } from "../orgs/router.ts";
import { type GitImportDeps, importFromGit } from "./import.ts";
import type { GitRemotes } from "./service.ts";

export function remoteRoutes(router: OrgRouter, o: { remotes: GitRemotes; imports: GitImportDeps }): void {
  const c = routes.remotes;
  router.handle(c.importGit, async (request) => importFromGit(o.imports, request.scope, request.body));
  router.handle(c.get, async (request) => o.remotes.get(request.scope, request.params.project));
  router.handle(c.link, async (request) =>
    o.remotes.link(request.scope, request.params.project, request.body),
  );
  router.handle(c.unlink, async (request) => {
    await o.remotes.unlink(request.scope, request.params.project);
    return { ok: true as const };
  });
  router.handle(c.fetch, async (request) =>
    o.remotes.fetch(request.scope, request.params.project, request.body),
  );
  router.handle(c.push, async (request) =>
    o.remotes.push(request.scope, request.params.project, request.body),
  );
  router.handle(c.pull, async (request) =>
    o.remotes.pull(request.scope, request.params.project, request.body),
  );
}
