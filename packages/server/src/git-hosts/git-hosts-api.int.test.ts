import type { GitHost } from "@kiln/protocol";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { query } from "../db/client.ts";
import { type GitTestbed, join, startGitTestbed } from "../testing/git.ts";
import { startFakeGitea } from "../testing/git-hosts/gitea.ts";
import { startFakeGitHub } from "../testing/git-hosts/github.ts";
import { startFakeGitLab } from "../testing/git-hosts/gitlab.ts";
import type { FakeGitHost } from "../testing/git-hosts/http.ts";
import { startGitServer, type TestGitServer } from "../testing/git-server.ts";
import { uniqueSlug } from "../testing/harness.ts";

/**
 * Connecting git hosts (ADR 0028): the token is tried on the host's current-user endpoint (a refused one
 * is a clear 422 and nothing is saved), is stored sealed and never comes back; bad bodies are 4xx; another
 * org's connection is not found; only admins connect and remove; the repository list comes from the host.
 */

const TOKEN = "ghp_fake-token-for-tests-0123456789";
let server: TestGitServer;
let github: FakeGitHost;
let gitlab: FakeGitHost;
let gitea: FakeGitHost;
let bed: GitTestbed;
let base: string;

beforeAll(async () => {
  server = await startGitServer();
  github = await startFakeGitHub(server, { token: TOKEN, login: "octo" });
  gitlab = await startFakeGitLab(server, { token: TOKEN, login: "tanuki" });
  gitea = await startFakeGitea(server, { token: TOKEN, login: "tea" });
  const allow = [github, gitlab, gitea].map((f) => new URL(f.apiUrl).host);
  bed = await startGitTestbed({
    KILN_EGRESS_ALLOW: [...allow, `${server.host}:${server.port}`].join(","),
    KILN_EXTRA_CA_FILE: server.caFile,
  });
  base = `/api/orgs/${bed.org.slug}/git-hosts`;
}, 120_000);

afterAll(async () => {
  await bed?.kiln.stop();
  for (const f of [github, gitlab, gitea]) await f?.close();
  await server?.stop();
});

function connectBody(fake: FakeGitHost, kind: string, extra: Record<string, unknown> = {}) {
  return {
    kind,
    name: `${kind} ${uniqueSlug("h")}`,
    token: TOKEN,
    apiUrl: fake.apiUrl,
    gitUrl: fake.gitUrl,
    ...extra,
  };
}

describe("connecting a git host", () => {
  it("checks the token with the host, keeps it sealed and never returns it (GitHub, GitLab, Gitea)", async () => {
    for (const [fake, kind] of [
      [github, "github"],
      [gitlab, "gitlab"],
      [gitea, "gitea"],
    ] as const) {
      const res = await bed.owner.client.post(base, connectBody(fake, kind));
      expect(res.statusCode, res.body).toBe(201);
      const host = res.json() as GitHost;
      expect(host).toMatchObject({ kind, login: fake.login, tokenHint: `…${TOKEN.slice(-4)}` });
      expect(res.body).not.toContain(TOKEN);
      expect(fake.calls).toContain(`GET ${new URL(fake.apiUrl).pathname.replace(/\/$/, "")}/user`);
    }
    expect(new Set(github.apiVersions)).toEqual(new Set(["2022-11-28"]));
    const listed = await bed.owner.client.get(base);
    expect(listed.statusCode).toBe(200);
    expect((listed.json() as GitHost[]).map((h) => h.kind).sort()).toEqual(["gitea", "github", "gitlab"]);
    expect(listed.body).not.toContain(TOKEN);
    const rows = await query<{ token_sealed: string }>(
      bed.kiln.database.db,
      sql.raw(`SELECT token_sealed FROM "${schemaOf(bed.org.slug)}".git_hosts`),
    );
    expect(rows.length).toBe(3);
    for (const row of rows) {
      expect(row.token_sealed.startsWith("v1.")).toBe(true);
      expect(row.token_sealed).not.toContain(TOKEN);
    }
  });

  it("refuses a token the host refuses (401 there) with a clear 422, and saves nothing", async () => {
    const before = (await bed.owner.client.get(base)).json().length;
    for (const [fake, kind] of [
      [github, "github"],
      [gitlab, "gitlab"],
      [gitea, "gitea"],
    ] as const) {
      const res = await bed.owner.client.post(base, connectBody(fake, kind, { token: "wrong-token-1234" }));
      expect([res.statusCode, res.json().error?.code], res.body).toEqual([422, "git_host_token_refused"]);
      expect(res.body).not.toContain("wrong-token-1234");
    }
    expect((await bed.owner.client.get(base)).json().length).toBe(before);
  });

  it("answers garbage, oversized and hostile bodies with 4xx", async () => {
    const bad: Array<[Record<string, unknown>, number, string]> = [
      [{}, 400, "validation_failed"],
      [{ ...connectBody(gitea, "gitea"), apiUrl: undefined }, 400, "validation_failed"],
      [connectBody(github, "bitbucket"), 400, "validation_failed"],
      [connectBody(github, "github", { apiUrl: "http://api.github.com" }), 400, "validation_failed"],
      [connectBody(github, "github", { apiUrl: "https://user:pw@api.github.com" }), 400, "validation_failed"],
      [connectBody(github, "github", { token: "x".repeat(5000) }), 400, "validation_failed"],
      [connectBody(github, "github", { token: "has spaces in it" }), 400, "validation_failed"],
      [connectBody(github, "github", { name: "\u0000bad" }), 400, "validation_failed"],
      [connectBody(github, "github", { extra: 1 }), 400, "validation_failed"],
      // The host's API on an address the policy refuses: nothing is sent there.
      [connectBody(gitea, "gitea", { apiUrl: "https://127.0.0.1:1/api/v1" }), 400, "egress_refused"],
      [connectBody(gitea, "gitea", { apiUrl: "https://169.254.169.254/api/v1" }), 400, "egress_refused"],
      // Through GitHub's official client too (its custom fetch is the egress fetch).
      [connectBody(github, "github", { apiUrl: "https://127.0.0.1:1" }), 400, "egress_refused"],
      [connectBody(github, "github", { apiUrl: "https://kiln-probe.invalid" }), 400, "git_host_unresolved"],
    ];
    for (const [body, status, code] of bad) {
      const res = await bed.owner.client.post(base, body);
      expect(
        [res.statusCode, res.json().error?.code],
        `${JSON.stringify(body).slice(0, 120)} → ${res.body}`,
      ).toEqual([status, code]);
    }
    const taken = connectBody(github, "github");
    expect((await bed.owner.client.post(base, taken)).statusCode).toBe(201);
    const again = await bed.owner.client.post(base, taken);
    expect([again.statusCode, again.json().error?.code]).toEqual([409, "git_host_name_taken"]);
    const garbageId = await bed.owner.client.delete(`${base}/not-a-uuid`);
    expect(garbageId.statusCode).toBe(400);
  });

  it("is the org's alone: another org's connection is not found; only admins connect or remove", async () => {
    const made = (await bed.owner.client.post(base, connectBody(github, "github"))).json() as GitHost;
    const other = await bed.kiln.signup();
    const slug = uniqueSlug("other");
    expect((await other.client.post("/api/orgs", { name: "Other", slug })).statusCode).toBe(201);
    const foreign = `/api/orgs/${slug}/git-hosts/${made.id}`;
    for (const res of [
      await other.client.delete(foreign),
      await other.client.get(`${foreign}/repositories`),
      await other.client.post(`${foreign}/imports`, { repository: "octo/app" }),
    ])
      expect([res.statusCode, res.json().error?.code]).toEqual([404, "git_host_not_found"]);
    expect((await other.client.get(`/api/orgs/${slug}/git-hosts`)).json()).toEqual([]);

    const developer = await join(bed.kiln, bed.owner, bed.org.slug, "developer");
    const connect = await developer.client.post(base, connectBody(github, "github"));
    expect([connect.statusCode, connect.json().error?.code]).toEqual([403, "forbidden"]);
    const remove = await developer.client.delete(`${base}/${made.id}`);
    expect(remove.statusCode).toBe(403);
    expect((await developer.client.get(base)).statusCode).toBe(200);
    const viewer = await join(bed.kiln, bed.owner, bed.org.slug, "viewer");
    expect((await viewer.client.get(`${base}/${made.id}/repositories`)).statusCode).toBe(403);

    expect((await bed.owner.client.delete(`${base}/${made.id}`)).statusCode).toBe(200);
    const gone = await bed.owner.client.delete(`${base}/${made.id}`);
    expect([gone.statusCode, gone.json().error?.code]).toEqual([404, "git_host_not_found"]);
  });

  it("lists the account's repositories from the host", async () => {
    await gitea.addRepository("listed-app", { "index.html": "<h1>hi</h1>" });
    const made = (await bed.owner.client.post(base, connectBody(gitea, "gitea"))).json() as GitHost;
    const res = await bed.owner.client.get(`${base}/${made.id}/repositories`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toContainEqual(
      expect.objectContaining({ fullName: "tea/listed-app", cloneUrl: `${gitea.gitUrl}/tea/listed-app.git` }),
    );
  });
});

function schemaOf(slug: string): string {
  return `org_${slug.replaceAll("-", "_")}`;
}
