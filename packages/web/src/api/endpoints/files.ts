import type { FileContent, FileInfo, FileTree, SearchResult } from "@kiln/protocol";
import { http } from "../client.ts";
import { type Ok, projectPath } from "./paths.ts";

export const files = {
  tree: (org: string, project: string) => http.get<FileTree>(`${projectPath(org, project)}/files/tree`),
  /** Server-sent events: the paths that change, by anyone (for EventSource). */
  eventsUrl: (org: string, project: string) => `${projectPath(org, project)}/files/events`,
  read: (org: string, project: string, path: string, signal?: AbortSignal) =>
    http.get<FileContent>(`${projectPath(org, project)}/files/content`, {
      query: { path, encoding: "auto" },
      ...(signal ? { signal } : {}),
    }),
  write: (
    org: string,
    project: string,
    body: {
      path: string;
      content: string;
      expectedVersion?: string;
      createOnly?: boolean;
      createParents?: boolean;
    },
  ) => http.put<FileInfo>(`${projectPath(org, project)}/files/content`, body),
  move: (org: string, project: string, from: string, to: string) =>
    http.post<FileInfo>(`${projectPath(org, project)}/files/move`, { from, to, createParents: true }),
  mkdir: (org: string, project: string, path: string) =>
    http.post<FileInfo>(`${projectPath(org, project)}/files/directories`, { path, parents: true }),
  remove: (org: string, project: string, path: string) =>
    http.delete<Ok>(`${projectPath(org, project)}/files`, { query: { path, recursive: true } }),
  searchNames: (org: string, project: string, query: string) =>
    http.get<SearchResult>(`${projectPath(org, project)}/files/search`, {
      query: { query, mode: "name", maxResults: 50 },
    }),
};
