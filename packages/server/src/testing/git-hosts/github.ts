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
 * A fake GitHub REST API (docs.github.com/rest): GET /user, GET /user/repos, POST /user/repos,
 * POST /repos/{owner}/{repo}/pulls. Strict like GitHub: no token or a wrong one → 401 "Bad credentials";
 * no User-Agent → 403; an Accept other than JSON or GitHub's media type → 415; an unknown
 * X-GitHub-Api-Version → 400; an existing repository name or a missing head/base branch → 422
 * "Validation Failed". Repositories live on the real git server as `<login>/<name>.git`.
 */
const DOCS = "https://docs.github.com/rest";

export function startFakeGitHub(git: TestGitServer, o: { token: string; login: string }) {
  return startFakeHost(git, o.login, "", (req, host) => handle(git, o.token, req, host));
}

async function handle(
  git: TestGitServer,
  token: string,
  req: FakeRequest,
  host: FakeGitHost,
): Promise<FakeAnswer> {
  const auth = String(req.headers.authorization ?? "");
  if (auth !== `Bearer ${token}` && auth !== `token ${token}`)
    return { status: 401, json: { message: "Bad credentials", documentation_url: DOCS } };
  if (!req.headers["user-agent"])
    return { status: 403, json: { message: "Request forbidden by administrative rules." } };
  const accept = String(req.headers.accept ?? "*/*");
  if (!/application\/vnd\.github|application\/json|\*\/\*/.test(accept))
    return { status: 415, json: { message: "Unsupported 'Accept' header", documentation_url: DOCS } };
  const version = req.headers["x-github-api-version"];
  host.apiVersions.push(String(version ?? ""));
  if (version !== undefined && version !== "2022-11-28")
    return { status: 400, json: { message: `API version ${version} is not supported.` } };
  const path = req.url.pathname;
  if (req.method === "GET" && path === "/user")
    return { status: 200, json: { login: host.login, id: 1, type: "User" } };
  if (path === "/user/repos" && req.method === "GET") {
    const perPage = Number(req.url.searchParams.get("per_page") ?? 30);
    if (!Number.isInteger(perPage) || perPage < 1) return invalid("per_page");
    return {
      status: 200,
      json: [...host.repositories].slice(0, Math.min(perPage, 100)).map((n) => repo(host, n, true)),
    };
  }
  if (path === "/user/repos" && req.method === "POST") {
    const body = req.json ?? {};
    if (!validName(body.name)) return invalid("name");
    if (body.private !== undefined && typeof body.private !== "boolean") return invalid("private");
    if (host.repositories.has(body.name))
      return {
        status: 422,
        json: {
          message: "Repository creation failed.",
          errors: [
            {
              resource: "Repository",
              code: "custom",
              field: "name",
              message: "name already exists on this account",
            },
          ],
          documentation_url: DOCS,
        },
      };
    await host.addRepository(body.name, {});
    return { status: 201, json: repo(host, body.name, body.private ?? false) };
  }
  const pulls = /^\/repos\/([^/]+)\/([^/]+)\/pulls$/.exec(path);
  if (pulls && req.method === "POST") {
    const [, owner, name] = pulls;
    if (owner !== host.login || !host.repositories.has(name!))
      return { status: 404, json: { message: "Not Found", documentation_url: DOCS } };
    const body = req.json ?? {};
    if (typeof body.title !== "string" || !body.title) return invalid("title");
    if (!(await branchTip(git, host, name!, body.base))) return invalid("base");
    if (!(await branchTip(git, host, name!, body.head))) return invalid("head");
    if (openPull(host, `${owner}/${name}`, body.head, body.base))
      return {
        status: 422,
        json: {
          message: "Validation Failed",
          errors: [
            {
              resource: "PullRequest",
              code: "custom",
              message: `A pull request already exists for ${owner}:${body.head}.`,
            },
          ],
          documentation_url: DOCS,
        },
      };
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
        title: body.title,
        html_url: `https://github.example/${owner}/${name}/pull/${number}`,
        head: { ref: body.head },
        base: { ref: body.base },
      },
    };
  }
  return { status: 404, json: { message: "Not Found", documentation_url: DOCS } };
}

function invalid(field: string): FakeAnswer {
  return {
    status: 422,
    json: {
      message: "Validation Failed",
      errors: [{ resource: "Repository", field, code: "invalid" }],
      documentation_url: DOCS,
    },
  };
}

function repo(host: FakeGitHost, name: string, isPrivate: boolean) {
  return {
    id: 1000 + [...host.repositories].indexOf(name),
    name,
    full_name: `${host.login}/${name}`,
    private: isPrivate,
    owner: { login: host.login },
    html_url: `https://github.example/${host.login}/${name}`,
    clone_url: `${host.gitUrl}/${host.login}/${name}.git`,
    default_branch: "main",
  };
}
