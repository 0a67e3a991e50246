import { type AdminListQuery, routes } from "@kiln/protocol";
import { type BodyOf, call } from "../call.ts";

const e = routes.admin;

export const admin = {
  overview: () => call(e.overview, {}),
  users: (query: AdminListQuery) => call(e.users, { query }),
  suspend: (userId: string) => call(e.suspend, { params: { userId } }),
  unsuspend: (userId: string) => call(e.unsuspend, { params: { userId } }),
  orgs: (query: AdminListQuery) => call(e.orgs, { query }),
  signupPolicy: () => call(e.signupPolicy, {}),
  updateSignupPolicy: (body: BodyOf<typeof e.updateSignupPolicy>) => call(e.updateSignupPolicy, { body }),
};
