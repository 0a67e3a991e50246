import { type AdminAuditQuery, type AdminListQuery, type AdminUsageQuery, routes } from "@kiln/protocol";
import { type BodyOf, call } from "../call.ts";

const e = routes.admin;

export const admin = {
  overview: () => call(e.overview, {}),
  users: (query: AdminListQuery) => call(e.users, { query }),
  suspend: (userId: string) => call(e.suspend, { params: { userId } }),
  unsuspend: (userId: string) => call(e.unsuspend, { params: { userId } }),
  passwordReset: (userId: string) => call(e.passwordReset, { params: { userId } }),
  deletionPlan: (userId: string) => call(e.deletionPlan, { params: { userId } }),
  deleteUser: (userId: string) => call(e.deleteUser, { params: { userId } }),
  orgs: (query: AdminListQuery) => call(e.orgs, { query }),
  org: (orgId: string) => call(e.org, { params: { orgId } }),
  deleteOrg: (orgId: string) => call(e.deleteOrg, { params: { orgId } }),
  usage: (query: AdminUsageQuery) => call(e.usage, { query }),
  audit: (query: AdminAuditQuery) => call(e.audit, { query }),
  signupPolicy: () => call(e.signupPolicy, {}),
  updateSignupPolicy: (body: BodyOf<typeof e.updateSignupPolicy>) => call(e.updateSignupPolicy, { body }),
};
