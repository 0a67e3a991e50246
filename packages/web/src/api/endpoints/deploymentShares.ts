import { routes } from "@kiln/protocol";
import { type BodyOf, call } from "../call.ts";

const e = routes.deploymentShares;

export const deploymentShares = {
  list: (org: string, project: string, deployment: string) =>
    call(e.list, { params: { org, project, deployment } }),
  create: (org: string, project: string, deployment: string, body: BodyOf<typeof e.create>) =>
    call(e.create, { params: { org, project, deployment }, body }),
  revoke: (org: string, project: string, deployment: string, versionLink: string) =>
    call(e.revoke, { params: { org, project, deployment, versionLink } }),
};
