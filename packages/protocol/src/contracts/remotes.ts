import { ImportedProject } from "../archives.ts";
import { Ok } from "../common.ts";
import {
  FetchRemoteBody,
  ImportGitBody,
  LinkRemoteBody,
  PullRemoteBody,
  PullResult,
  PushRemoteBody,
  PushResult,
  RemoteState,
  RemoteStatus,
} from "../remotes.ts";
import { defineRoute } from "./define.ts";
import { OrgParams, ProjectParams } from "./params.ts";

const tags = ["remotes"];
const BASE = "/api/orgs/:org/projects/:project/remote";
const TRANSFER_ERRORS = [
  "project_not_found",
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
  "git_host_not_found",
  "git_url_not_on_host",
] as const;

/** Git with hosts outside Kiln (ADR 0025): import from a URL, a project's linked remote, push and pull. */
export const remotes = {
  importGit: defineRoute({
    method: "POST",
    path: "/api/orgs/:org/git-imports",
    summary: "Create a project from a git repository's https URL",
    tags,
    permission: "projects.write",
    params: OrgParams,
    body: ImportGitBody,
    status: 201,
    response: ImportedProject,
    errors: [...TRANSFER_ERRORS, "slug_taken", "limit_exceeded"],
  }),
  get: defineRoute({
    method: "GET",
    path: BASE,
    summary: "The project's linked remote with main's commits ahead and behind (as last fetched)",
    tags,
    permission: "projects.read",
    params: ProjectParams,
    response: RemoteState,
    errors: ["project_not_found"],
  }),
  link: defineRoute({
    method: "PUT",
    path: BASE,
    summary: "Link the project to a remote repository (fetched once to check it)",
    tags,
    permission: "projects.write",
    params: ProjectParams,
    body: LinkRemoteBody,
    response: RemoteStatus,
    errors: [...TRANSFER_ERRORS],
  }),
  unlink: defineRoute({
    method: "DELETE",
    path: BASE,
    summary: "Forget the project's remote (nothing on the remote changes)",
    tags,
    permission: "projects.write",
    params: ProjectParams,
    response: Ok,
    errors: ["project_not_found", "remote_not_linked"],
  }),
  fetch: defineRoute({
    method: "POST",
    path: `${BASE}/fetch`,
    summary: "Fetch the remote branch: ahead and behind now",
    tags,
    permission: "projects.write",
    params: ProjectParams,
    body: FetchRemoteBody,
    response: RemoteStatus,
    errors: [...TRANSFER_ERRORS, "remote_not_linked"],
  }),
  push: defineRoute({
    method: "POST",
    path: `${BASE}/push`,
    summary: "Push main (to the linked branch) or a task branch (to its own name); never forced",
    tags,
    permission: "projects.write",
    params: ProjectParams,
    body: PushRemoteBody,
    response: PushResult,
    errors: [...TRANSFER_ERRORS, "remote_not_linked", "branch_not_found", "push_rejected"],
  }),
  pull: defineRoute({
    method: "POST",
    path: `${BASE}/pull`,
    summary: "Fetch the remote branch and merge it into main; a conflict changes no file unless asked",
    tags,
    permission: "projects.write",
    params: ProjectParams,
    body: PullRemoteBody,
    response: PullResult,
    errors: [...TRANSFER_ERRORS, "remote_not_linked", "files_in_the_way"],
  }),
};
