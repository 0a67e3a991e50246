import type { GitHostRepository } from "@kiln/protocol";
import { KilnError } from "../errors/errors.ts";
import {
  callHost,
  field,
  type HostApi,
  type HostApiOptions,
  type Json,
  pullRequestExists,
  refusal,
} from "./api.ts";

/**
 * GitLab's REST API (/api/v4; "PRIVATE-TOKEN: …"): GET /user, GET /projects?membership=true, POST /projects
 * (400 "has already been taken" for a used name), POST /projects/:id/merge_requests (id: the URL-encoded path).
 */
export function gitlabApi(o: HostApiOptions): HostApi {
  const headers = { "private-token": o.token };
  const call = (what: string, method: string, route: string, body?: unknown) =>
    callHost(o, `gitlab: ${what}`, method, route, headers, body);
  return {
    async currentUser() {
      const a = await call("current user", "GET", "/user");
      if (a.status !== 200) throw refusal("gitlab: current user", a.status, a.json?.message);
      return { login: field("gitlab: current user", a.json?.username) };
    },
    async repositories() {
      const a = await call(
        "repositories",
        "GET",
        "/projects?membership=true&per_page=100&order_by=last_activity_at&sort=desc",
      );
      if (a.status !== 200) throw refusal("gitlab: repositories", a.status, a.json?.message);
      if (!Array.isArray(a.json)) throw refusal("gitlab: repositories", a.status, "not a list");
      return a.json.slice(0, 100).map(toRepository);
    },
    async createRepository(name, isPrivate) {
      const a = await call("create repository", "POST", "/projects", {
        name,
        path: name,
        visibility: isPrivate ? "private" : "public",
      });
      if (a.status === 400 && /already been taken/i.test(JSON.stringify(a.json?.message ?? "")))
        throw new KilnError("git_repository_exists", `the host already has a repository named ${name}`);
      if (a.status !== 201) throw refusal("gitlab: create repository", a.status, a.json?.message);
      return toRepository(a.json);
    },
    async openPullRequest(fullName, pr) {
      const a = await call(
        "open merge request",
        "POST",
        `/projects/${encodeURIComponent(fullName)}/merge_requests`,
        { source_branch: pr.head, target_branch: pr.base, title: pr.title, description: pr.body },
      );
      if (a.status === 409) throw pullRequestExists(pr.head, pr.base);
      if (a.status !== 201) throw refusal("gitlab: open merge request", a.status, a.json?.message);
      return { url: field("gitlab: merge request", a.json?.web_url), number: Number(a.json?.iid) };
    },
  };
}

function toRepository(r: Json): GitHostRepository {
  return {
    fullName: field("gitlab: project", r?.path_with_namespace),
    cloneUrl: field("gitlab: project", r?.http_url_to_repo),
    webUrl: String(r?.web_url ?? ""),
    defaultBranch: typeof r?.default_branch === "string" ? r.default_branch : null,
    private: r?.visibility !== "public",
  };
}
