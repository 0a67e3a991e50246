import { routes } from "@kiln/protocol";
import { type BodyOf, call } from "../call.ts";

const c = routes.gitHosts;

/** Connected git hosts (ADR 0028): the org's GitHub/GitLab/Gitea accounts and what projects do with them. */
export const gitHosts = {
  list: (org: string) => call(c.list, { params: { org } }),
  create: (org: string, body: BodyOf<typeof c.create>) => call(c.create, { params: { org }, body }),
  remove: (org: string, host: string) => call(c.remove, { params: { org, host } }),
  repositories: (org: string, host: string) => call(c.repositories, { params: { org, host } }),
  importRepository: (org: string, host: string, body: BodyOf<typeof c.importRepository>) =>
    call(c.importRepository, { params: { org, host }, body }),
  createRepository: (org: string, project: string, body: BodyOf<typeof c.createRepository>) =>
    call(c.createRepository, { params: { org, project }, body }),
  openPullRequest: (org: string, project: string, taskId: string, body: BodyOf<typeof c.openPullRequest>) =>
    call(c.openPullRequest, { params: { org, project, taskId }, body }),
};
