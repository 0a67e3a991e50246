import { routes } from "@kiln/protocol";
import { call, urlOf } from "../call.ts";

const r = routes.runtime;

export const runtime = {
  status: (org: string, project: string) => call(r.status, { params: { org, project } }),
  act: (org: string, project: string, action: "start" | "stop" | "restart") =>
    call(r[action], { params: { org, project } }),
  logs: (org: string, project: string, since?: number) =>
    call(r.logs, { params: { org, project }, query: { since } }),
  logStreamUrl: (org: string, project: string) => urlOf(r.logs, { params: { org, project } }),
  previewSession: (org: string, project: string) => call(r.previewSession, { params: { org, project } }),
};
