import { routes } from "@kiln/protocol";
import { call } from "../call.ts";

const e = routes.deploymentRuntime;

export const deploymentRuntime = {
  log: (org: string, project: string, deployment: string) =>
    call(e.log, { params: { org, project, deployment }, query: {} }),
};
