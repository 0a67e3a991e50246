import { z } from "zod";
import { OrgSso, PutOrgSsoBody } from "../org-sso.ts";
import { defineRoute } from "./define.ts";
import { OrgParams } from "./params.ts";

const tags = ["sso"];
const BASE = "/api/orgs/:org/sso";

/** Binding an org to a single sign-on provider for its email domains: the admins' call. */
export const orgSso = {
  get: defineRoute({
    method: "GET",
    path: BASE,
    summary: "The org's single sign-on binding (null: none)",
    tags,
    permission: "org.update",
    params: OrgParams,
    response: OrgSso.nullable(),
  }),
  put: defineRoute({
    method: "PUT",
    path: BASE,
    summary:
      "Bind the org to a provider for email domains (each proven by a DNS TXT record before it counts)",
    tags,
    permission: "org.update",
    params: OrgParams,
    body: PutOrgSsoBody,
    response: OrgSso,
    errors: ["sign_in_provider_not_found", "hostname_invalid"],
  }),
  remove: defineRoute({
    method: "DELETE",
    path: BASE,
    summary: "Unbind the org from its provider (members stay)",
    tags,
    permission: "org.update",
    params: OrgParams,
    response: z.null(),
    status: 204,
  }),
  verify: defineRoute({
    method: "POST",
    path: `${BASE}/verify`,
    summary: "Look up the domains' TXT records now; each that holds its token becomes verified",
    tags,
    permission: "org.update",
    params: OrgParams,
    response: OrgSso,
    errors: ["sso_not_configured", "domain_taken"],
  }),
};
