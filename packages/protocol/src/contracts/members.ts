import { z } from "zod";
import { Id, Ok } from "../common.ts";
import { Member, UpdateMemberBody } from "../orgs.ts";
import { defineRoute } from "./define.ts";
import { OrgParams } from "./params.ts";

const tags = ["members"];
const MemberParams = OrgParams.extend({ userId: Id });

export const members = {
  list: defineRoute({
    method: "GET",
    path: "/api/orgs/:org/members",
    summary: "Members of an org",
    tags,
    permission: "members.read",
    params: OrgParams,
    response: z.array(Member),
  }),
  setRole: defineRoute({
    method: "PATCH",
    path: "/api/orgs/:org/members/:userId",
    summary: "Change a member's role",
    tags,
    permission: "members.manage",
    params: MemberParams,
    body: UpdateMemberBody,
    response: Member,
    errors: ["member_not_found", "last_owner"],
  }),
  remove: defineRoute({
    method: "DELETE",
    path: "/api/orgs/:org/members/:userId",
    summary: "Remove a member (or leave)",
    tags,
    // Leaving is the one write every member may make; removing someone else is managing members.
    permission: "members.read",
    others: "members.manage",
    params: MemberParams,
    response: Ok,
    errors: ["member_not_found", "last_owner"],
  }),
};
