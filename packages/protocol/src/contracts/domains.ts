import { z } from "zod";
import { AddDomainBody, Domain, DomainCheck, DomainCheckQuery, DomainId } from "../domains.ts";
import { defineRoute } from "./define.ts";
import { ProjectParams } from "./params.ts";

const tags = ["domains"];
const BASE = "/api/orgs/:org/projects/:project/domains";
const One = ProjectParams.extend({ domain: DomainId });

/**
 * Custom domains of a project's published app (ADR 0026). Pointing a hostname at a project makes it public
 * there: an admin's call, as publishing is.
 */
export const domains = {
  list: defineRoute({
    method: "GET",
    path: BASE,
    summary: "A project's custom domains, oldest first",
    tags,
    permission: "projects.read",
    params: ProjectParams,
    response: z.array(Domain),
    errors: ["project_not_found"],
  }),
  add: defineRoute({
    method: "POST",
    path: BASE,
    summary: "Add a custom domain; it serves once its DNS TXT record is verified",
    tags,
    permission: "projects.publish",
    params: ProjectParams,
    body: AddDomainBody,
    status: 201,
    response: Domain,
    errors: ["project_not_found", "hostname_invalid", "domain_taken", "too_many_domains"],
  }),
  verify: defineRoute({
    method: "POST",
    path: `${BASE}/:domain/verify`,
    summary: "Look up the domain's TXT record now; verified when it holds the token",
    tags,
    permission: "projects.publish",
    params: One,
    response: Domain,
    errors: ["project_not_found", "domain_not_found", "domain_taken"],
  }),
  remove: defineRoute({
    method: "DELETE",
    path: `${BASE}/:domain`,
    summary: "Remove a custom domain: it stops serving at once",
    tags,
    permission: "projects.publish",
    params: One,
    status: 204,
    response: z.null(),
    errors: ["project_not_found", "domain_not_found"],
  }),
  check: defineRoute({
    method: "GET",
    path: "/api/domains/check",
    summary:
      "Whether Kiln serves this hostname (a verified custom domain): for a TLS terminator's on-demand certificates",
    tags,
    auth: "none",
    query: DomainCheckQuery,
    response: DomainCheck,
    errors: ["domain_not_found"],
  }),
};
