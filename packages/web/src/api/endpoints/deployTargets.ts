import { routes } from "@kiln/protocol";
import { type BodyOf, call } from "../call.ts";

const c = routes.deployTargets;

export const deployTargets = {
  list: (org: string) => call(c.list, { params: { org } }),
  create: (org: string, body: BodyOf<typeof c.create>) => call(c.create, { params: { org }, body }),
  update: (org: string, target: string, body: BodyOf<typeof c.update>) =>
    call(c.update, { params: { org, target }, body }),
  remove: (org: string, target: string) => call(c.remove, { params: { org, target } }),
  ofProject: (org: string, project: string) => call(c.ofProject, { params: { org, project } }),
  setAutoDeploy: (org: string, project: string, target: string, autoDeploy: boolean) =>
    call(c.updateOfProject, { params: { org, project, target }, body: { autoDeploy } }),
  deploy: (org: string, project: string, target: string) =>
    call(c.deploy, { params: { org, project, target } }),
};
