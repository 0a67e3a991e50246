import { type FixErrorsBody, type FixErrorsResponse, routes } from "@kiln/protocol";
import { call } from "../call.ts";
import { http } from "../client.ts";
import { projectPath } from "./paths.ts";

const p = routes.previewErrors;

export const previewErrors = {
  list: (org: string, project: string) => call(p.list, { params: { org, project } }),
  clear: (org: string, project: string) => call(p.clear, { params: { org, project } }),
  // The fix-errors route is a chat's (chats/routes.ts): it moves to `call` with the chats contracts.
  fix: (org: string, project: string, body: FixErrorsBody) =>
    http.post<FixErrorsResponse>(`${projectPath(org, project)}/fix-errors`, body),
};
