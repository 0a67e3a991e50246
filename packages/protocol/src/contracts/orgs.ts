import { z } from "zod";
import { Ok } from "../common.ts";
import { CreateOrgBody, Org, UpdateOrgBody } from "../orgs.ts";
import { defineRoute } from "./define.ts";
import { OrgParams } from "./params.ts";

const tags = ["orgs"];
const ORG = "/api/orgs/:org";

export const orgs = {
  list: defineRoute({
    method: "GET",
    path: "/api/orgs",
    summary: "Orgs I belong to",
    tags,
    response: z.array(Org),
  }),
  create: defineRoute({
    method: "POST",
    path: "/api/orgs",
    summary: "Create an org",
    tags,
    body: CreateOrgBody,
    status: 201,
    response: Org,
    errors: ["slug_taken", "slug_reserved", "limit_exceeded"],
  }),
  get: defineRoute({
    method: "GET",
    path: ORG,
    summary: "One org",
    tags,
    permission: "org.read",
    params: OrgParams,
    response: Org,
  }),
  update: defineRoute({
    method: "PATCH",
    path: ORG,
    summary: "Rename an org or change its slug",
    tags,
    permission: "org.update",
    params: OrgParams,
    body: UpdateOrgBody,
    response: Org,
    errors: ["slug_taken", "slug_reserved"],
  }),
  remove: defineRoute({
    method: "DELETE",
    path: ORG,
    summary: "Delete an org and everything in it",
    tags,
    permission: "org.delete",
    params: OrgParams,
    response: Ok,
    errors: ["personal_org"],
  }),
};
