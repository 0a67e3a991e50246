import type { GitHostRepository } from "@kiln/protocol";
import { KilnError } from "../errors/errors.ts";
import {
  callHost,
  field,
  type HostApi,
  type HostApiOptions,
  type Json,
  ownerAndName,
  pullRequestExists,
  refusal,
} from "./api.ts";

/**
 * Gitea's REST API (/api/v1; "Authorization: token …"): GET /user, GET /user/repos (pages of 50),
 * POST /user/repos (409 when the name is taken), POST /repos/{owner}/{repo}/pulls.
 */
export function giteaApi(o: HostApiOptions): HostApi {
  const headers = { authorization: `token ${o.token}` };
  const call = (what: string, method: string, route: string, body?: unknown) =>
    callHost(o, `gitea: ${what}`, method, route, headers, body);
  return {
    async currentUser() {
      const a = await call("current user", "GET", "/user");
      if (a.status !== 200) throw refusal("gitea: current user", a.status, a.json?.message);
      return { login: field("gitea: current user", a.json?.login) };
    },
    async repositories() {
      const out: GitHostRepository[] = [];
      for (let page = 1; page <= 2; page++) {
        const a = await call("repositories", "GET", `/user/repos?limit=50&page=${page}`);
        if (a.status !== 200) throw refusal("gitea: repositories", a.status, a.json?.message);
        if (!Array.isArray(a.json)) throw refusal("gitea: repositories", a.status, "not a list");
        out.push(...a.json.map(toRepository));
        if (a.json.length < 50) break;
      }
      return out.slice(0, 100);
    },
    async createRepository(name, isPrivate) {
      const a = await call("create repository", "POST", "/user/repos", { name, private: isPrivate });
      if (a.status === 409)
        throw new KilnError("git_repository_exists", `the host already has a repository named ${name}`);
      if (a.status !== 201) throw refusal("gitea: create repository", a.status, a.json?.message);
      return toRepository(a.json);
    },
    async openPullRequest(fullName, pr) {
      const { owner, repo } = ownerAndName(fullName);
      const route = `/repos/${encodeURIComponent(owner)}/${encodeURIComponent(repo)}/pulls`;
      const a = await call("open pull request", "POST", route, pr);
      if (a.status === 409) throw pullRequestExists(pr.head, pr.base);
      if (a.status !== 201) throw refusal("gitea: open pull request", a.status, a.json?.message);
      return { url: field("gitea: pull request", a.json?.html_url), number: Number(a.json?.number) };
    },
  };
}

function toRepository(r: Json): GitHostRepository {
  return {
    fullName: field("gitea: repository", r?.full_name),
    cloneUrl: field("gitea: repository", r?.clone_url),
    webUrl: String(r?.html_url ?? ""),
    defaultBranch: typeof r?.default_branch === "string" ? r.default_branch : null,
    private: r?.private === true,
  };
}
