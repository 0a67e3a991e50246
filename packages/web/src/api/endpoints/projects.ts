import { routes } from "@kiln/protocol";
import { type BodyOf, call, callUpload, urlOf } from "../call.ts";

const p = routes.projects;

export const projects = {
  list: (org: string) => call(p.list, { params: { org } }),
  get: (org: string, project: string) => call(p.get, { params: { org, project } }),
  // The workspace opens the preview next: start the dev server now rather than on its first request.
  create: (org: string, body: Omit<BodyOf<typeof p.create>, "startDevServer">) =>
    call(p.create, { params: { org }, body: { ...body, startDevServer: true } }),
  update: (org: string, project: string, body: BodyOf<typeof p.update>) =>
    call(p.update, { params: { org, project }, body }),
  remove: (org: string, project: string) => call(p.remove, { params: { org, project } }),
  /** Where the browser downloads the project's zip (a plain link: the session cookie goes with it). */
  exportUrl: (org: string, project: string, history: boolean) =>
    urlOf(p.export, { params: { org, project }, query: { history: history ? "true" : "false" } }),
  importZip: (org: string, name: string, zip: Blob) =>
    callUpload(p.import, { params: { org }, query: { name } }, zip),
};
