import { type Role, routes } from "@kiln/protocol";
import { type BodyOf, call } from "../call.ts";

const { orgs: o, members: m, invitations: i } = routes;

export const orgs = {
  list: () => call(o.list, {}),
  get: (org: string) => call(o.get, { params: { org } }),
  create: (body: BodyOf<typeof o.create>) => call(o.create, { body }),
  update: (org: string, body: BodyOf<typeof o.update>) => call(o.update, { params: { org }, body }),
  remove: (org: string) => call(o.remove, { params: { org } }),
  members: (org: string) => call(m.list, { params: { org } }),
  setRole: (org: string, userId: string, role: Role) =>
    call(m.setRole, { params: { org, userId }, body: { role } }),
  removeMember: (org: string, userId: string) => call(m.remove, { params: { org, userId } }),
  invitations: (org: string) => call(i.list, { params: { org } }),
  invite: (org: string, body: BodyOf<typeof i.create>) => call(i.create, { params: { org }, body }),
  revokeInvitation: (org: string, invitationId: string) => call(i.revoke, { params: { org, invitationId } }),
};
