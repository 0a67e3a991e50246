import { routes } from "@kiln/protocol";
import { type BodyOf, call } from "../call.ts";

const e = routes.projectEnv;

export const projectEnv = {
  list: (org: string, project: string) => call(e.list, { params: { org, project } }),
  set: (org: string, project: string, body: BodyOf<typeof e.set>) =>
    call(e.set, { params: { org, project }, body }),
  remove: (org: string, project: string, variable: string) =>
    call(e.remove, { params: { org, project, variable } }),
};
