import { routes } from "@kiln/protocol";
import { type BodyOf, call } from "../call.ts";

const e = routes.remotes;

/** Git with hosts outside Kiln: import from a URL, a project's linked remote, push and pull. */
export const remotes = {
  importGit: (org: string, body: BodyOf<typeof e.importGit>) => call(e.importGit, { params: { org }, body }),
  get: (org: string, project: string) => call(e.get, { params: { org, project } }),
  link: (org: string, project: string, body: BodyOf<typeof e.link>) =>
    call(e.link, { params: { org, project }, body }),
  unlink: (org: string, project: string) => call(e.unlink, { params: { org, project } }),
  fetch: (org: string, project: string, body: BodyOf<typeof e.fetch>) =>
    call(e.fetch, { params: { org, project }, body }),
  push: (org: string, project: string, body: BodyOf<typeof e.push>) =>
    call(e.push, { params: { org, project }, body }),
  pull: (org: string, project: string, body: BodyOf<typeof e.pull>) =>
    call(e.pull, { params: { org, project }, body }),
};
