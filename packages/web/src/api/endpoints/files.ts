import { routes } from "@kiln/protocol";
import { type BodyOf, call, urlOf } from "../call.ts";

const f = routes.files;

export const files = {
  tree: (org: string, project: string) => call(f.tree, { params: { org, project } }),
  /** Server-sent events: the paths that change, by anyone (for EventSource). */
  eventsUrl: (org: string, project: string) => urlOf(f.events, { params: { org, project } }),
  read: (org: string, project: string, path: string, signal?: AbortSignal) =>
    call(f.read, { params: { org, project }, query: { path, encoding: "auto" } }, signal ? { signal } : {}),
  write: (org: string, project: string, body: BodyOf<typeof f.write>) =>
    call(f.write, { params: { org, project }, body }),
  move: (org: string, project: string, from: string, to: string) =>
    call(f.move, { params: { org, project }, body: { from, to, createParents: true } }),
  mkdir: (org: string, project: string, path: string) =>
    call(f.mkdir, { params: { org, project }, body: { path, parents: true } }),
  remove: (org: string, project: string, path: string) =>
    call(f.remove, { params: { org, project }, query: { path, recursive: "true" } }),
  searchNames: (org: string, project: string, query: string) =>
    call(f.search, { params: { org, project }, query: { query, mode: "name", maxResults: 50 } }),
};
