import type { GitHostRepository } from "@kiln/protocol";
import { Octokit } from "@octokit/rest";
import { KilnError } from "../errors/errors.ts";
import {
  field,
  type HostApi,
  type HostApiOptions,
  type Json,
  ownerAndName,
  pullRequestExists,
  refusal,
  unreachable,
} from "./api.ts";

/**
 * GitHub through its official client (@octokit/rest) on the egress fetch: GET /user, GET /user/repos,
 * POST /user/repos (422 when the name is taken), POST /repos/{owner}/{repo}/pulls.
 */
const API_VERSION = "2022-11-28";

export function githubApi(o: HostApiOptions): HostApi {
  const octokit = new Octokit({
    auth: o.token,
    baseUrl: o.apiUrl.replace(/\/+$/, ""),
    userAgent: "kiln",
    request: { fetch: o.fetch, redirect: "error" },
    log: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
  });
  // The REST API version Kiln is written against (GitHub answers 400 to one it does not know).
  octokit.hook.before("request", (options) => {
    options.headers["x-github-api-version"] = API_VERSION;
  });
  async function call<T>(
    what: string,
    run: () => Promise<T>,
    on?: Record<number, (data: Json) => KilnError | undefined>,
  ) {
    try {
      return await run();
    } catch (err) {
      // Octokit answers a fetch that threw (the address policy, DNS) as a "500" without a response.
      const response = (err as { response?: unknown }).response;
      const status = (err as { status?: number }).status;
      if (response && typeof status === "number") {
        const data = (err as { response?: { data?: Json } }).response?.data;
        const special = on?.[status]?.(data);
        if (special) throw special;
        const said = data?.errors?.[0]?.message ?? data?.message;
        throw refusal(`github: ${what}`, status, said ?? (err as Error).message);
      }
      throw unreachable(`github: ${what}`, (err as Error).cause ?? err);
    }
  }
  return {
    async currentUser() {
      const { data } = await call("current user", () => octokit.rest.users.getAuthenticated());
      return { login: field("github: current user", data.login) };
    },
    async repositories() {
      const { data } = await call("repositories", () =>
        octokit.rest.repos.listForAuthenticatedUser({ per_page: 100, sort: "updated" }),
      );
      return data.slice(0, 100).map(toRepository);
    },
    async createRepository(name, isPrivate) {
      const { data } = await call(
        "create repository",
        () => octokit.rest.repos.createForAuthenticatedUser({ name, private: isPrivate }),
        {
          422: () =>
            new KilnError("git_repository_exists", `the host already has a repository named ${name}`),
        },
      );
      return toRepository(data);
    },
    async openPullRequest(fullName, pr) {
      const { owner, repo } = ownerAndName(fullName);
      const { data } = await call(
        "open pull request",
        () => octokit.rest.pulls.create({ owner, repo, ...pr }),
        // 422 is GitHub's answer to bad branches too: only "already exists" is the open request.
        {
          422: (data) =>
            /already exists/i.test(JSON.stringify(data ?? ""))
              ? pullRequestExists(pr.head, pr.base)
              : undefined,
        },
      );
      return { url: field("github: pull request", data.html_url), number: data.number };
    },
  };
}

function toRepository(r: Json): GitHostRepository {
  return {
    fullName: field("github: repository", r?.full_name),
    cloneUrl: field("github: repository", r?.clone_url),
    webUrl: String(r?.html_url ?? ""),
    defaultBranch: typeof r?.default_branch === "string" ? r.default_branch : null,
    private: r?.private === true,
  };
}
