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
 * A fake GitLab REST API v4 (docs.gitlab.com/api): GET /user, GET /projects, POST /projects,
 * POST /projects/:id/merge_requests (id: a number or the URL-encoded path). Strict like GitLab: no
 * PRIVATE-TOKEN (or Bearer) or a wrong one → 401 "401 Unauthorized"; a taken name → 400 "has already been
 * taken"; a missing title or branch → 400; an unknown project → 404 "404 Project Not Found".
 */
export function startFakeGitLab(git: TestGitServer, o: { token: string; login: string }) {
  return startFakeHost(git, o.login, "/api/v4", (req, host) => handle(git, o.token, req, host));
}

async function handle(
  git: TestGitServer,
  token: string,
  req: FakeRequest,
  host: FakeGitHost,
): Promise<FakeAnswer> {
  const given =
    req.headers["private-token"] ?? String(req.headers.authorization ?? "").replace(/^Bearer /, "");
  if (given !== token) return { status: 401, json: { message: "401 Unauthorized" } };
  const path = req.url.pathname;
  if (req.method === "GET" && path === "/user") return { status: 200, json: { id: 7, username: host.login } };
  if (req.method === "GET" && path === "/projects") {
    const perPage = Number(req.url.searchParams.get("per_page") ?? 20);
    if (!Number.isInteger(perPage) || perPage < 1)
      return { status: 400, json: { error: "per_page is invalid" } };
    return {
      status: 200,
      json: [...host.repositories].slice(0, Math.min(perPage, 100)).map((n) => project(host, n, "private")),
    };
  }
  if (req.method === "POST" && path === "/projects") {
    const body = req.json ?? {};
    const name = body.path ?? body.name;
    if (!validName(name)) return { status: 400, json: { error: "name is missing, path is invalid" } };
    if (body.visibility !== undefined && !["private", "internal", "public"].includes(body.visibility))
      return { status: 400, json: { error: "visibility does not have a valid value" } };
    if (host.repositories.has(name))
      return {
        status: 400,
        json: { message: { name: ["has already been taken"], path: ["has already been taken"] } },
      };
    await host.addRepository(name, {});
    return { status: 201, json: project(host, name, body.visibility ?? "private") };
  }
  const mr = /^\/projects\/([^/]+)\/merge_requests$/.exec(path);
  if (mr && req.method === "POST") {
    const id = decodeURIComponent(mr[1]!);
    const name = id.startsWith(`${host.login}/`) ? id.slice(host.login.length + 1) : undefined;
    if (!name || !host.repositories.has(name))
      return { status: 404, json: { message: "404 Project Not Found" } };
    const body = req.json ?? {};
    if (typeof body.title !== "string" || !body.title)
      return { status: 400, json: { error: "title is missing" } };
    if (!(await branchTip(git, host, name, body.source_branch)))
      return { status: 400, json: { message: ["Source branch does not exist"] } };
    if (!(await branchTip(git, host, name, body.target_branch)))
      return { status: 400, json: { message: ["Target branch does not exist"] } };
    const existing = openPull(host, id, body.source_branch, body.target_branch);
    if (existing)
      return {
        status: 409,
        json: {
          message: [`Another open merge request already exists for this source branch: !${existing.number}`],
        },
      };
    const iid = host.pulls.length + 1;
    host.pulls.push({
      repository: id,
      number: iid,
      head: body.source_branch,
      base: body.target_branch,
      title: body.title,
    });
    return {
      status: 201,
      json: {
        id: 5000 + iid,
        iid,
        state: "opened",
        source_branch: body.source_branch,
        target_branch: body.target_branch,
        web_url: `https://gitlab.example/${id}/-/merge_requests/${iid}`,
      },
    };
  }
  return { status: 404, json: { error: "404 Not Found" } };
}

function project(host: FakeGitHost, name: string, visibility: string) {
  return {
    id: 100 + [...host.repositories].indexOf(name),
    path: name,
    path_with_namespace: `${host.login}/${name}`,
    visibility,
    web_url: `https://gitlab.example/${host.login}/${name}`,
    http_url_to_repo: `${host.gitUrl}/${host.login}/${name}.git`,
    default_branch: "main",
  };
}
