import type { LogLine, RuntimeStatus } from "@kiln/protocol";
import { http } from "../client.ts";
import { projectPath } from "./paths.ts";

export const runtime = {
  status: (org: string, project: string) => http.get<RuntimeStatus>(`${projectPath(org, project)}/runtime`),
  act: (org: string, project: string, action: "start" | "stop" | "restart") =>
    http.post<RuntimeStatus>(`${projectPath(org, project)}/runtime/${action}`),
  logs: (org: string, project: string, since?: number) =>
    http.get<LogLine[]>(`${projectPath(org, project)}/runtime/logs`, { query: { since } }),
  logStreamUrl: (org: string, project: string) => `${projectPath(org, project)}/runtime/logs`,
  previewSession: (org: string, project: string) =>
    http.post<{ url: string; expiresAt: string }>(`${projectPath(org, project)}/preview-session`),
};
