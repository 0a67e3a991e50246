import { once } from "node:events";
import type http from "node:http";
import https from "node:https";
import type { TestGitServer } from "../git-server.ts";

/**
 * What the fake git hosts share (ADR 0028): an https server on the test git server's address with its
 * certificate (so Kiln trusts it through the same CA), JSON bodies read with a size limit, JSON answers, and
 * the repositories themselves on the REAL git server (`<login>/<name>.git`). Each fake implements only the
 * endpoints Kiln calls, shaped after the host's API reference, and refuses what the host refuses.
 */
export interface FakeRequest {
  method: string;
  url: URL;
  headers: http.IncomingHttpHeaders;
  // biome-ignore lint/suspicious/noExplicitAny: a client's JSON, checked field by field by each fake
  json: any;
}

export interface FakeAnswer {
  status: number;
  json?: unknown;
}

/** A pull (merge) request a fake accepted: what a test asserts. */
export interface FakePull {
  repository: string;
  number: number;
  head: string;
  base: string;
  title: string;
}

export interface FakeGitHost {
  /** The API root to connect with (…/api/v4 for GitLab, …/api/v1 for Gitea). */
  apiUrl: string;
  /** The git origin the repositories are cloned from (the real git server). */
  gitUrl: string;
  login: string;
  /** `METHOD /path` of every request, in order. */
  calls: string[];
  pulls: FakePull[];
  /** GitHub: the X-GitHub-Api-Version of every request ("" when absent). */
  apiVersions: string[];
  /** Repositories the account owns, by name (made by create-repository or `addRepository`). */
  repositories: Set<string>;
  /** A repository of the account on the git server with one commit of `files`. */
  addRepository(name: string, files: Record<string, string>): Promise<void>;
  close(): Promise<void>;
}

export const MAX_BODY = 64 * 1024;

export async function startFakeHost(
  git: TestGitServer,
  login: string,
  apiPath: string,
  handle: (req: FakeRequest, host: FakeGitHost) => FakeAnswer | Promise<FakeAnswer>,
): Promise<FakeGitHost> {
  const calls: string[] = [];
  let host!: FakeGitHost;
  const server = https.createServer({ key: git.tls.key, cert: git.tls.cert }, async (req, res) => {
    const url = new URL(req.url ?? "/", "https://fake");
    calls.push(`${req.method} ${url.pathname}`);
    let answer: FakeAnswer;
    const body = await readBody(req);
    if (body === undefined) answer = { status: 413, json: { message: "request body too large" } };
    else {
      let json: unknown = null;
      try {
        json = body.length ? JSON.parse(body.toString("utf8")) : null;
      } catch {
        json = undefined;
      }
      if (json === undefined) answer = { status: 400, json: { message: "Problems parsing JSON" } };
      else if (!url.pathname.startsWith(apiPath)) answer = { status: 404, json: { message: "Not Found" } };
      else {
        const inner = new URL(url.pathname.slice(apiPath.length) + url.search, "https://fake");
        answer = await handle({ method: req.method ?? "GET", url: inner, headers: req.headers, json }, host);
      }
    }
    const text = answer.json === undefined ? "" : JSON.stringify(answer.json);
    res.writeHead(answer.status, text ? { "content-type": "application/json; charset=utf-8" } : {});
    res.end(text);
  });
  server.listen(0, git.host);
  await once(server, "listening");
  const port = (server.address() as { port: number }).port;
  const repositories = new Set<string>();
  host = {
    apiUrl: `https://${git.host}:${port}${apiPath}`,
    gitUrl: `https://${git.host}:${git.port}`,
    login,
    calls,
    pulls: [],
    apiVersions: [],
    repositories,
    async addRepository(name, files) {
      await git.createRepo(`${login}/${name}`, files);
      repositories.add(name);
    },
    close: async () => {
      server.closeAllConnections();
      server.close();
    },
  };
  return host;
}

/** The body, or undefined past MAX_BODY. */
async function readBody(req: http.IncomingMessage): Promise<Buffer | undefined> {
  if (Number(req.headers["content-length"] ?? 0) > MAX_BODY) {
    req.resume();
    return undefined;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Repository names the hosts accept: letters, digits, `.`, `_`, `-`; not `.git` at the end. */
export function validName(name: unknown): name is string {
  return typeof name === "string" && /^[A-Za-z0-9_.-]{1,100}$/.test(name) && !name.endsWith(".git");
}

/** The commit a branch of a repository of the account points at on the git server (undefined: none). */
export function branchTip(git: TestGitServer, host: FakeGitHost, name: string, branch: unknown) {
  if (typeof branch !== "string" || !branch) return Promise.resolve(undefined);
  return git.tip(`${host.login}/${name}`, branch);
}

/** An open request of the fake between these branches (the hosts refuse a second one). */
export function openPull(host: FakeGitHost, repository: string, head: unknown, base: unknown) {
  return host.pulls.find((p) => p.repository === repository && p.head === head && p.base === base);
}
