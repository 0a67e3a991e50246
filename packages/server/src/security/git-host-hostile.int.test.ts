import { once } from "node:events";
import { createServer, type Server } from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GitTestbed, startGitTestbed } from "../testing/git.ts";
import { startGitServer, type TestGitServer } from "../testing/git-server.ts";

/**
 * A connected git host's API root is a tenant's choice (a "self-hosted Gitea"), so the host may be hostile
 * (ADR 0028). Kiln must not follow it elsewhere with the org's token: a redirect is not followed (GitHub's
 * official client included), an endless answer is cut, and a created repository whose clone URL points off
 * the host's git origin (here: the host's loopback) is refused before git or the token go there.
 */

const TOKEN = "hostile-host-token-123456";
let git: TestGitServer;
let internal: { server: Server; port: number; hits: string[] };
let hostile: https.Server;
let apiRoot: string;
let bed: GitTestbed;

beforeAll(async () => {
  git = await startGitServer();
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url} ${req.headers.authorization ?? ""}`);
    res.end("{}");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  internal = { server, port: (server.address() as AddressInfo).port, hits };
  const inside = `http://127.0.0.1:${internal.port}`;
  hostile = https.createServer({ key: git.tls.key, cert: git.tls.cert }, (req, res) => {
    const path = new URL(req.url ?? "/", "https://x").pathname.replace(/^\/api\/v1|^\/api\/v3/, "");
    if (req.method === "GET" && path === "/user") {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ login: "evil" }));
    } else if (req.method === "GET" && path === "/user/repos") {
      res.writeHead(307, { location: `${inside}/steal` }).end();
    } else if (req.method === "POST" && path === "/user/repos") {
      res.writeHead(201, { "content-type": "application/json" }).end(
        JSON.stringify({
          full_name: "evil/x",
          clone_url: `https://127.0.0.1:${internal.port}/evil/x.git`,
          html_url: "https://evil.example/x",
          private: true,
        }),
      );
    } else {
      // An endless answer: the client must stop reading.
      res.writeHead(200, { "content-type": "application/json" });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const pump = () => {
        while (res.write(chunk)) {}
      };
      res.on("drain", pump);
      res.on("error", () => {});
      pump();
    }
  });
  hostile.listen(0, git.host);
  await once(hostile, "listening");
  apiRoot = `https://${git.host}:${(hostile.address() as AddressInfo).port}`;
  bed = await startGitTestbed({
    // The operator exempts the host as if it were a public server; the loopback stays refused.
    KILN_EGRESS_ALLOW: new URL(apiRoot).host,
    KILN_EXTRA_CA_FILE: git.caFile,
  });
}, 120_000);

afterAll(async () => {
  await bed?.kiln.stop();
  hostile?.closeAllConnections();
  hostile?.close();
  internal?.server.close();
  await git?.stop();
});

async function connect(kind: "gitea" | "github") {
  const res = await bed.owner.client.post(`/api/orgs/${bed.org.slug}/git-hosts`, {
    kind,
    name: `Hostile ${kind}`,
    token: TOKEN,
    apiUrl: kind === "gitea" ? `${apiRoot}/api/v1` : `${apiRoot}/api/v3`,
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().id as string;
}

describe("a hostile git host", () => {
  it("cannot redirect Kiln (nor GitHub's client) to an internal address with the org's token", async () => {
    for (const kind of ["gitea", "github"] as const) {
      const id = await connect(kind);
      const res = await bed.owner.client.get(`/api/orgs/${bed.org.slug}/git-hosts/${id}/repositories`);
      expect([res.statusCode, res.json().error?.code], res.body).toEqual([502, "git_host_error"]);
      expect(res.body).not.toContain(TOKEN);
    }
    expect(internal.hits).toEqual([]);
  });

  it("cannot send Kiln's git (and the token) off its origin with a created repository's clone URL", async () => {
    const id = (
      (await bed.owner.client.get(`/api/orgs/${bed.org.slug}/git-hosts`)).json() as {
        id: string;
        kind: string;
      }[]
    ).find((h) => h.kind === "gitea")!.id;
    const p = await bed.newProject();
    const res = await bed.owner.client.post(`${p.api}/remote/create-repository`, { host: id, name: "x" });
    expect([res.statusCode, res.json().error?.code], res.body).toEqual([400, "git_url_not_on_host"]);
    expect((await bed.owner.client.get(`${p.api}/remote`)).json().remote).toBeNull();
    expect(internal.hits).toEqual([]);
  });

  it("cannot hold Kiln on an endless answer: the current-user check stops reading it", async () => {
    const started = Date.now();
    const res = await bed.owner.client.post(`/api/orgs/${bed.org.slug}/git-hosts`, {
      kind: "gitlab",
      name: "Endless",
      token: TOKEN,
      apiUrl: `${apiRoot}/endless`,
    });
    expect([res.statusCode, res.json().error?.code], res.body).toEqual([502, "git_host_error"]);
    expect(res.json().error.message).toMatch(/larger than/);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect((await bed.owner.client.get(`/api/orgs/${bed.org.slug}/git-hosts`)).json()).toHaveLength(2);
  });
});
