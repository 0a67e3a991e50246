import type {
  CreateRepositoryBody,
  ImportedProject,
  ImportFromHostBody,
  OpenPullRequestBody,
  PullRequest,
  RemoteStatus,
} from "@kiln/protocol";
import type { TaskReviews } from "../board/tasks/review.ts";
import type { TaskService } from "../board/tasks/service.ts";
import { KilnError } from "../errors/errors.ts";
import { requirePermission } from "../orgs/roles.ts";
import type { OrgAccess } from "../orgs/service.ts";
import { type GitImportDeps, importFromGit } from "../remotes/import.ts";
import type { GitRemotes } from "../remotes/service.ts";
import { type GitHostService, repositoryOf } from "./service.ts";

export interface GitHostActionDeps {
  hosts: GitHostService;
  remotes: GitRemotes;
  imports: GitImportDeps;
  reviews: TaskReviews;
  tasks: TaskService;
}

/** `owner/name` or a GitLab `group/sub/name`: path segments a clone URL can carry, nothing else. */
const FULL_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*(\/[A-Za-z0-9_][A-Za-z0-9_.-]*){1,5}$/;

/**
 * What a project does with a connected host (ADR 0028): create its repository there (linked, main pushed),
 * import one of the host's repositories, and offer a task's branch as a pull (merge) request.
 */
export class GitHostActions {
  readonly #d: GitHostActionDeps;

  constructor(deps: GitHostActionDeps) {
    this.#d = deps;
  }

  async createRepository(access: OrgAccess, ref: string, body: CreateRepositoryBody): Promise<RemoteStatus> {
    requirePermission(access.role, "projects.write");
    // The project first: a foreign or missing project makes nothing on the host.
    await this.#d.remotes.get(access, ref);
    const host = await this.#d.hosts.open(access.org, body.host);
    const repo = await host.api.createRepository(body.name, body.private ?? true);
    const url = new URL(repo.cloneUrl);
    repositoryOf(host, url); // the host's answer must name its own git origin, or the token stays home
    // Replaces an earlier link (the link is one row per project, written over).
    await this.#d.remotes.link(access, ref, { url: url.href, host: host.row.id });
    const pushed = await this.#d.remotes.push(access, ref, {});
    return pushed.remote;
  }

  async importRepository(
    access: OrgAccess,
    hostId: string,
    body: ImportFromHostBody,
  ): Promise<ImportedProject> {
    requirePermission(access.role, "projects.write");
    const host = await this.#d.hosts.open(access.org, hostId);
    if (!FULL_NAME.test(body.repository))
      throw new KilnError("git_url_invalid", "not a repository of the host (owner/name)");
    const url = `${host.gitOrigin}/${body.repository.replace(/\.git$/, "")}.git`;
    return importFromGit(
      this.#d.imports,
      access,
      { url, ...(body.name ? { name: body.name } : {}), auth: host.auth },
      host.row.id,
    );
  }

  /** Pushes the task's branch (its last finished agent work) and opens a request to the linked branch. */
  async openPullRequest(
    access: OrgAccess,
    ref: string,
    taskId: string,
    body: OpenPullRequestBody,
  ): Promise<PullRequest> {
    requirePermission(access.role, "projects.write");
    const task = await this.#d.tasks.get(access, ref, taskId);
    const review = await this.#d.reviews.get(access, ref, taskId);
    if (!review.branch)
      throw new KilnError("task_branch_missing", "the task has no finished agent work (no branch) yet");
    const link = await this.#d.remotes.linkOf(access, ref);
    if (!link.hostId)
      throw new KilnError(
        "git_host_not_found",
        "the project's remote is not linked through a connected git host (link it with one first)",
      );
    const host = await this.#d.hosts.open(access.org, link.hostId);
    const fullName = repositoryOf(host, new URL(link.url));
    await this.#d.remotes.push(access, ref, { branch: review.branch });
    const title = body.title ?? `#${task.number}: ${task.title}`;
    const opened = await host.api.openPullRequest(fullName, {
      head: review.branch,
      base: link.branch,
      title,
      body: `${review.summary ?? ""}\n\nFrom Kiln task #${task.number}.`.trim(),
    });
    await this.#d.tasks.comment(access, ref, taskId, {
      body: `Pull request opened: ${opened.url} (${review.branch} → ${link.branch})`,
    });
    return { url: opened.url, number: opened.number, head: review.branch, base: link.branch };
  }
}
