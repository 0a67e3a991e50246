import { routes } from "@kiln/protocol";
import { call } from "../call.ts";

const e = routes.deployments;

export const deployments = {
  list: (org: string, project: string) => call(e.list, { params: { org, project } }),
  create: (org: string, project: string) => call(e.create, { params: { org, project } }),
  log: (org: string, project: string, deployment: string) =>
    call(e.log, { params: { org, project, deployment } }),
  promote: (org: string, project: string, deployment: string) =>
    call(e.promote, { params: { org, project, deployment } }),
};
