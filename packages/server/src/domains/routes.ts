import { routes } from "@kiln/protocol";
import { NotFoundError } from "../errors/errors.ts";
import type { OrgRouter } from "../orgs/router.ts";
import { hostOfRequest } from "./hostname.ts";
import type { DomainLookup } from "./lookup.ts";
import type { CustomDomainService } from "./service.ts";

export function domainRoutes(
  router: OrgRouter,
  deps: { domains: CustomDomainService; lookup: DomainLookup },
): void {
  const c = routes.domains;
  const { domains } = deps;
  router.handle(c.list, async (request) => domains.list(request.scope, request.params.project));
  router.handle(c.add, async (request) => domains.add(request.scope, request.params.project, request.body));
  router.handle(c.verify, async (request) =>
    domains.verify(request.scope, request.params.project, request.params.domain),
  );
  router.handle(c.remove, async (request) => {
    await domains.remove(request.scope, request.params.project, request.params.domain);
  });
  // A TLS terminator asks before it gets a certificate for a name (Caddy's on-demand `ask`): yes only for a
  // verified custom domain, so nobody can make it request certificates for arbitrary names.
  router.handle(c.check, async (request) => {
    const name = hostOfRequest(request.query.domain);
    const target = name ? await deps.lookup.resolve(name) : undefined;
    if (!name || target?.state !== "verified")
      throw new NotFoundError("domain_not_found", "not a verified custom domain of this Kiln");
    return { domain: name, verified: true as const };
  });
}
