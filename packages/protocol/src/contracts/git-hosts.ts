import { z } from "zod";
import { ImportedProject } from "../archives.ts";
import { Id, Ok } from "../common.ts";
import {
  CreateGitHostBody,
  CreateRepositoryBody,
  GitHost,
  GitHostId,
  GitHostRepository,
  ImportFromHostBody,
  OpenPullRequestBody,
  PullRequest,
} from "../git-hosts.ts";
import { RemoteStatus } from "../remotes.ts";
import { defineRoute } from "./define.ts";
import { OrgParams, ProjectParams } from "./params.ts";

const tags = ["git-hosts"];
const BASE = "/api/orgs/:org/git-hosts";
const One = OrgParams.extend({ host: GitHostId });
const TRANSFER_ERRORS = [
  "egress_refused",
  "git_url_invalid",
  "not_a_git_repository",
  "remote_branch_not_found",
  "git_remote_unreachable",
  "git_auth_failed",
  "git_timeout",
  "git_repository_too_large",
  "history_unavailable",
  "history_busy",
  "unavailable",
  "git_url_not_on_host",
] as const;

/**
 * Connected git hosts (ADR 0028): an org's GitHub, GitLab or Gitea account with a sealed token, its
 * repositories, a project's repository created there and a task's branch offered as a pull request.
 */
export const gitHosts = {
  list: defineRoute({
    method: "GET",
    path: BASE,
    summary: "The org's connected git hosts (tokens are never shown)",
    tags,
    permission: "gitHosts.read",
    params: OrgParams,
    response: z.array(GitHost),
  }),
  create: defineRoute({
    method: "POST",
    path: BASE,
    summary: "Connect a git host with a token, checked against the host's current-user endpoint (admin)",
    tags,
    permission: "gitHosts.manage",
    params: OrgParams,
    body: CreateGitHostBody,
    status: 201,
    response: GitHost,
    errors: [
      "git_host_name_taken",
      "git_host_token_refused",
      "git_host_error",
      "git_host_unresolved",
      "egress_refused",
    ],
  }),
  remove: defineRoute({
    method: "DELETE",
    path: `${BASE}/:host`,
    summary: "Remove a git host and its token (admin); linked projects fall back to a token per action",
    tags,
    permission: "gitHosts.manage",
    params: One,
    response: Ok,
    errors: ["git_host_not_found"],
  }),
  repositories: defineRoute({
    method: "GET",
    path: `${BASE}/:host/repositories`,
    summary: "The repositories the connection's account can reach (the first 100, recently updated first)",
    tags,
    permission: "projects.write",
    params: One,
    response: z.array(GitHostRepository),
    errors: [
      "git_host_not_found",
      "git_host_token_refused",
      "git_host_error",
      "git_host_unresolved",
      "egress_refused",
    ],
  }),
  importRepository: defineRoute({
    method: "POST",
    path: `${BASE}/:host/imports`,
    summary: "Create a project from one of the connection's repositories (linked to it)",
    tags,
    permission: "projects.write",
    params: One,
    body: ImportFromHostBody,
    status: 201,
    response: ImportedProject,
    errors: [
      ...TRANSFER_ERRORS,
      "git_host_not_found",
      "git_host_token_refused",
      "git_host_error",
      "git_host_unresolved",
      "slug_taken",
      "limit_exceeded",
    ],
  }),
  createRepository: defineRoute({
    method: "POST",
    path: "/api/orgs/:org/projects/:project/remote/create-repository",
    summary: "Create a repository on a connected host, link the project to it and push main",
    tags,
    permission: "projects.write",
    params: ProjectParams,
    body: CreateRepositoryBody,
    status: 201,
    response: RemoteStatus,
    errors: [
      ...TRANSFER_ERRORS,
      "project_not_found",
      "git_host_not_found",
      "git_host_token_refused",
      "git_host_error",
      "git_host_unresolved",
      "git_repository_exists",
      "push_rejected",
    ],
  }),
  openPullRequest: defineRoute({
    method: "POST",
    path: "/api/orgs/:org/projects/:project/tasks/:taskId/pull-request",
    summary:
      "Push a task's branch to the linked host repository and open a pull (merge) request to its branch",
    tags,
    permission: "projects.write",
    params: ProjectParams.extend({ taskId: Id }),
    body: OpenPullRequestBody,
    status: 201,
    response: PullRequest,
    errors: [
      ...TRANSFER_ERRORS,
      "project_not_found",
      "task_not_found",
      "task_branch_missing",
      "remote_not_linked",
      "git_host_not_found",
      "git_host_token_refused",
      "git_host_error",
      "git_host_unresolved",
      "push_rejected",
      "pull_request_exists",
    ],
  }),
};
