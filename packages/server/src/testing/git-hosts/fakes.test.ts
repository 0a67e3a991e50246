import https from "node:https";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGitServer, type TestGitServer } from "../git-server.ts";
import { startFakeGitea } from "./gitea.ts";
import { startFakeGitHub } from "./github.ts";
import { startFakeGitLab } from "./gitlab.ts";
import { type FakeGitHost, MAX_BODY } from "./http.ts";

/**
 * The fake git hosts are only worth their tests if they refuse what the real APIs refuse: no token or a
 * wrong one, GitHub without a User-Agent or with a foreign Accept or API version, a taken repository name,
 * a pull request from a branch the repository does not have, bad JSON, an oversized body.
 */

const TOKEN = "fake-token-0123456789";
let git: TestGitServer;
let github: FakeGitHost;
let gitlab: FakeGitHost;
let gitea: FakeGitHost;

beforeAll(async () => {
  git = await startGitServer();
  github = await startFakeGitHub(git, { token: TOKEN, login: "octo" });
  gitlab = await startFakeGitLab(git, { token: TOKEN, login: "tanuki" });
  gitea = await startFakeGitea(git, { token: TOKEN, login: "tea" });
});
afterAll(async () => {
  for (const f of [github, gitlab, gitea]) await f?.close();
  await git?.stop();
});

/** One request trusting the test CA: status and parsed JSON. */
async function send(
  url: string,
  method: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; json: { message?: unknown; error?: unknown; [k: string]: unknown } }> {
  const ca = await import("node:fs/promises").then((fs) => fs.readFile(git.caFile));
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method, headers, ca }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : {} });
      });
    });
    req.on("error", reject);
    req.end(body);
  });
}

const gh = { authorization: `Bearer ${TOKEN}`, "user-agent": "test", accept: "application/vnd.github+json" };

describe("the fake GitHub", () => {
  it("refuses a missing or wrong token, no User-Agent, a foreign Accept or API version", async () => {
    const u = `${github.apiUrl}/user`;
    expect((await send(u, "GET", { ...gh, authorization: "" })).status).toBe(401);
    expect((await send(u, "GET", { ...gh, authorization: "Bearer nope" })).json.message).toBe(
      "Bad credentials",
    );
    expect((await send(u, "GET", { authorization: gh.authorization, accept: gh.accept })).status).toBe(403);
    expect((await send(u, "GET", { ...gh, accept: "text/html" })).status).toBe(415);
    expect((await send(u, "GET", { ...gh, "x-github-api-version": "1999-01-01" })).status).toBe(400);
    expect((await send(u, "GET", { ...gh, "x-github-api-version": "2022-11-28" })).json.login).toBe("octo");
  });

  it("creates a repository once (422 after), and opens a pull request only between existing branches", async () => {
    const create = () => send(`${github.apiUrl}/user/repos`, "POST", gh, JSON.stringify({ name: "app" }));
    const made = await create();
    expect(made.status).toBe(201);
    expect(made.json.clone_url).toBe(`${github.gitUrl}/octo/app.git`);
    expect((await create()).status).toBe(422);
    expect((await send(`${github.apiUrl}/user/repos`, "POST", gh, "{not json")).status).toBe(400);
    const pr = (b: object) => send(`${github.apiUrl}/repos/octo/app/pulls`, "POST", gh, JSON.stringify(b));
    // An empty repository has no main yet.
    expect((await pr({ title: "t", head: "feature", base: "main" })).status).toBe(422);
    await github.addRepository("seeded", { "a.txt": "a" });
    const seeded = (b: object) =>
      send(`${github.apiUrl}/repos/octo/seeded/pulls`, "POST", gh, JSON.stringify(b));
    const noHead = await seeded({ title: "t", head: "nope", base: "main" });
    expect([noHead.status, noHead.json.errors]).toEqual([422, [expect.objectContaining({ field: "head" })]]);
    expect((await seeded({ head: "main", base: "main" })).status).toBe(422);
    expect((await pr({ title: "t", head: "nope", base: "main" })).status).toBe(422);
    expect((await send(`${github.apiUrl}/repos/octo/other/pulls`, "POST", gh, "{}")).status).toBe(404);
    expect(github.pulls).toEqual([]);
  });

  it("refuses an oversized body with 413", async () => {
    const big = JSON.stringify({ name: "x".repeat(MAX_BODY) });
    expect((await send(`${github.apiUrl}/user/repos`, "POST", gh, big)).status).toBe(413);
  });
});

describe("the fake GitLab and Gitea", () => {
  it("want their own token headers and refuse a taken name as the hosts do (400, 409)", async () => {
    const lab = { "private-token": TOKEN, "content-type": "application/json" };
    expect((await send(`${gitlab.apiUrl}/user`, "GET", { "private-token": "nope" })).status).toBe(401);
    expect((await send(`${gitlab.apiUrl}/user`, "GET", lab)).json.username).toBe("tanuki");
    const labCreate = () => send(`${gitlab.apiUrl}/projects`, "POST", lab, JSON.stringify({ name: "shop" }));
    expect((await labCreate()).status).toBe(201);
    const taken = await labCreate();
    expect([taken.status, JSON.stringify(taken.json.message)]).toEqual([
      400,
      expect.stringContaining("taken"),
    ]);
    const mr = await send(
      `${gitlab.apiUrl}/projects/${encodeURIComponent("tanuki/shop")}/merge_requests`,
      "POST",
      lab,
      JSON.stringify({ title: "t", source_branch: "nope", target_branch: "main" }),
    );
    expect(mr.status).toBe(400);

    const tea = { authorization: `token ${TOKEN}` };
    expect((await send(`${gitea.apiUrl}/user`, "GET", { authorization: "token nope" })).status).toBe(401);
    expect((await send(`${gitea.apiUrl}/user`, "GET", tea)).json.login).toBe("tea");
    const teaCreate = () => send(`${gitea.apiUrl}/user/repos`, "POST", tea, JSON.stringify({ name: "blog" }));
    expect((await teaCreate()).status).toBe(201);
    expect((await teaCreate()).status).toBe(409);
    expect(
      (await send(`${gitea.apiUrl}/user/repos`, "POST", tea, JSON.stringify({ name: "a/b" }))).status,
    ).toBe(422);
    const pull = await send(
      `${gitea.apiUrl}/repos/tea/blog/pulls`,
      "POST",
      tea,
      JSON.stringify({ title: "t", head: "nope", base: "main" }),
    );
    expect(pull.status).toBe(404);
    expect([...gitlab.pulls, ...gitea.pulls]).toEqual([]);
  });
});
