import type { FastifyInstance } from "fastify";
import { ContractRouter } from "../http/contract-router.ts";
import { requirePermission } from "./roles.ts";
import type { OrgAccess, OrgService } from "./service.ts";

/** Routes registered against contracts; under `:org`, `request.scope` is the caller's `OrgAccess`. */
export type OrgRouter = ContractRouter<OrgAccess>;

export function orgRouter(app: FastifyInstance, orgs: OrgService): OrgRouter {
  return new ContractRouter<OrgAccess>(app, {
    resolve: (principal, orgRef) => orgs.access(principal.userId, orgRef, principal),
    authorize: (access, permission) => requirePermission(access.role, permission),
  });
}
