import type { Terminal } from "@kiln/protocol";
import { http } from "../client.ts";
import { e, type Ok, projectPath } from "./paths.ts";

export const terminals = {
  create: (org: string, project: string, size: { cols: number; rows: number }) =>
    http.post<Terminal>(`${projectPath(org, project)}/terminals`, size),
  list: (org: string, project: string) => http.get<Terminal[]>(`${projectPath(org, project)}/terminals`),
  kill: (org: string, project: string, id: string) =>
    http.delete<Ok>(`${projectPath(org, project)}/terminals/${e(id)}`),
  socketUrl: (org: string, project: string, id: string) => {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    return `${scheme}//${location.host}${projectPath(org, project)}/terminals/${e(id)}/socket`;
  },
};
