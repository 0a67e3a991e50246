import type { FixErrorsBody, FixErrorsResponse, PreviewErrorList } from "@kiln/protocol";
import { http } from "../client.ts";
import { type Ok, projectPath } from "./paths.ts";

export const previewErrors = {
  list: (org: string, project: string) =>
    http.get<PreviewErrorList>(`${projectPath(org, project)}/runtime/errors`),
  clear: (org: string, project: string) => http.delete<Ok>(`${projectPath(org, project)}/runtime/errors`),
  fix: (org: string, project: string, body: FixErrorsBody) =>
    http.post<FixErrorsResponse>(`${projectPath(org, project)}/fix-errors`, body),
};
