import type { CheckpointDiff, CheckpointPage, RestoreResult } from "@kiln/protocol";
import { http } from "../client.ts";
import { e, projectPath } from "./paths.ts";

export const history = {
  list: (org: string, project: string, before?: string) =>
    http.get<CheckpointPage>(`${projectPath(org, project)}/history`, { query: { before, limit: 50 } }),
  diff: (org: string, project: string, sha: string) =>
    http.get<CheckpointDiff>(`${projectPath(org, project)}/history/${e(sha)}`),
  restore: (org: string, project: string, sha: string, force?: boolean) =>
    http.post<RestoreResult>(`${projectPath(org, project)}/history/${e(sha)}/restore`, { force }),
  undo: (org: string, project: string, messageId: string, force?: boolean) =>
    http.post<RestoreResult>(`${projectPath(org, project)}/undo`, { messageId, force }),
};
