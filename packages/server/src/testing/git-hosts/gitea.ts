import type { TestGitServer } from "../git-server.ts";
import {
  branchTip,
  type FakeAnswer,
  type FakeGitHost,
  type FakeRequest,
  openPull,
  startFakeHost,
  validName,
} from "./http.ts";

/**
 * A fake Gitea API v1 (the instance's /api/swagger): GET /user, GET /user/repos (page, limit ≤ 50),
 * POST /user/repos, POST /repos/{owner}/{repo}/pulls. Strict like Gitea: no `token …` (or Bearer)
 * Authorization or a wrong one → 401; a taken name → 409; an invalid name → 422; a missing branch → 404.
 */
export function startFakeGitea(git: TestGitServer, o: { token: string; login: string }) {
  return startFakeHost(git, o.login, "/api/v1", (req, host) => handle(git, o.token, req, host));
}

async function handle(
  git: TestGitServer,
  token: string,
  req: FakeRequest,
  host: FakeGitHost,
): Promise<FakeAnswer> {
  const auth = String(req.headers.authorization ?? "");
  if (auth !== `token ${token}` && auth !== `Bearer ${token}`)
    return {
      status: 401,
      json: { message: "user does not exist", url: "https://gitea.example/api/swagger" },
    };
  const path = req.url.pathname;
  if (req.method === "GET" && path === "/user") return { status: 200, json: { id: 3, login: host.login } };
  if (req.method === "GET" && path === "/user/repos") {
    const limit = Math.min(Number(req.url.searchParams.get("limit") ?? 30), 50);
    const page = Number(req.url.searchParams.get("page") ?? 1);
    if (!Number.isInteger(limit) || !Number.isInteger(page) || limit < 1 || page < 1)
      return { status: 422, json: { message: "invalid page or limit" } };
    const all = [...host.repositories];
    return { status: 200, json: all.slice((page - 1) * limit, page * limit).map((n) => repo(host, n, true)) };
  }
  if (req.method === "POST" && path === "/user/repos") {
    const body = req.json ?? {};
    if (!validName(body.name)) return { status: 422, json: { message: "[Name]: invalid repository name" } };
    if (host.repositories.has(body.name))
      return { status: 409, json: { message: "The repository with the same name already exists." } };
    await host.addRepository(body.name, {});
    return { status: 201, json: repo(host, body.name, body.private === true) };
  }
  const pulls = /^\/repos\/([^/]+)\/([^/]+)\/pulls$/.exec(path);
  if (pulls && req.method === "POST") {
    const [, owner, name] = pulls;
    if (owner !== host.login || !host.repositories.has(name!))
      return { status: 404, json: { message: "repository not found" } };
    const body = req.json ?? {};
    if (typeof body.title !== "string" || !body.title)
      return { status: 422, json: { message: "[Title]: Required" } };
    if (!(await branchTip(git, host, name!, body.head)) || !(await branchTip(git, host, name!, body.base)))
      return { status: 404, json: { message: "branch not found" } };
    if (openPull(host, `${owner}/${name}`, body.head, body.base))
      return { status: 409, json: { message: "pull request already exists for these targets" } };
    const number = host.pulls.length + 1;
    host.pulls.push({
      repository: `${owner}/${name}`,
      number,
      head: body.head,
      base: body.base,
      title: body.title,
    });
    return {
      status: 201,
      json: {
        number,
        state: "open",
        html_url: `https://gitea.example/${owner}/${name}/pulls/${number}`,
        head: { ref: body.head },
        base: { ref: body.base },
      },
    };
  }
  return { status: 404, json: { message: "not found" } };
}

function repo(host: FakeGitHost, name: string, isPrivate: boolean) {
  return {
    id: 200 + [...host.repositories].indexOf(name),
    name,
    full_name: `${host.login}/${name}`,
    private: isPrivate,
    html_url: `https://gitea.example/${host.login}/${name}`,
    clone_url: `${host.gitUrl}/${host.login}/${name}.git`,
    default_branch: "main",
  };
}
