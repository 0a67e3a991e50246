import { routes } from "@kiln/protocol";
import { type BodyOf, call } from "../call.ts";

const e = routes.domains;

export const domains = {
  list: (org: string, project: string) => call(e.list, { params: { org, project } }),
  add: (org: string, project: string, body: BodyOf<typeof e.add>) =>
    call(e.add, { params: { org, project }, body }),
  verify: (org: string, project: string, domain: string) =>
    call(e.verify, { params: { org, project, domain } }),
  remove: (org: string, project: string, domain: string) =>
    call(e.remove, { params: { org, project, domain } }),
};
