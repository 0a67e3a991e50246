import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Deployment } from "@kiln/protocol";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type SignedUp, startTestKiln, type TestKiln, uniqueSlug } from "../testing/harness.ts";

/**
 * Deploy targets (ADR 0024) make the server call out with an org's token. Those calls go through the one
 * egress address policy: an API root on an address the operator did not exempt is never connected to, and a
 * provider that redirects to one (here: the host's loopback) does not get the server to follow.
 */

interface Listener {
  server: Server;
  port: number;
  hits: string[];
}

async function listen(handle: (res: import("node:http").ServerResponse) => void): Promise<Listener> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url} ${req.headers.authorization ?? ""}`);
    handle(res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, port: (server.address() as AddressInfo).port, hits };
}

let internal: Listener;
let redirector: Listener;
let kiln: TestKiln;
let owner: SignedUp;
let org: string;

beforeAll(async () => {
  internal = await listen((res) => res.end("{}"));
  redirector = await listen((res) => {
    res.writeHead(307, { location: `http://127.0.0.1:${internal.port}/api/v1/sites` });
    res.end();
  });
  kiln = await startTestKiln({
    env: {
      // Not exempted: the host's own loopback, as an internal service would be.
      KILN_VERCEL_API_URL: `http://127.0.0.1:${internal.port}`,
      // Exempted, and it answers every call with a redirect to that internal service.
      KILN_NETLIFY_API_URL: `http://127.0.0.1:${redirector.port}`,
      KILN_EGRESS_ALLOW: `127.0.0.1:${redirector.port}`,
      KILN_DEPLOY_POLL_MS: "20",
    },
  });
  owner = await kiln.signup();
  org = uniqueSlug("egress");
  expect((await owner.client.post("/api/orgs", { name: "Egress", slug: org })).statusCode).toBe(201);
}, 120_000);

afterAll(async () => {
  await kiln?.stop();
  for (const l of [internal, redirector]) l?.server.close();
});

async function deployTo(kind: "vercel" | "netlify"): Promise<{ deployment: Deployment; log: string }> {
  const target = await owner.client.post(`/api/orgs/${org}/deploy-targets`, {
    kind,
    name: kind,
    token: `${kind}-secret-token-1234`,
  });
  expect(target.statusCode, target.body).toBe(201);
  const project = await owner.client.post(`/api/orgs/${org}/projects`, { name: kind, template: "static" });
  const api = `/api/orgs/${org}/projects/${project.json().slug}`;
  const started = await owner.client.post(`${api}/deploy-targets/${target.json().id}/deployments`);
  expect(started.statusCode, started.body).toBe(202);
  for (const until = Date.now() + 60_000; Date.now() < until; ) {
    const deployment = (
      await owner.client.get(`${api}/deployments/${started.json().id}`)
    ).json() as Deployment;
    if (deployment.status !== "building") {
      const log = (await owner.client.get(`${api}/deployments/${deployment.id}/log`)).json().log as string;
      return { deployment, log };
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("the deployment did not finish");
}

it("never connects to an API root the egress policy refuses", async () => {
  const { deployment, log } = await deployTo("vercel");
  expect(deployment.status).toBe("failed");
  expect(deployment.error).toContain("could not be reached");
  expect(log).not.toContain("vercel-secret-token-1234");
  expect(internal.hits).toEqual([]);
});

it("does not follow a provider's redirect to a refused address, nor carry the token there", async () => {
  const { deployment } = await deployTo("netlify");
  expect(deployment.status).toBe("failed");
  expect(redirector.hits.length).toBeGreaterThan(0);
  expect(redirector.hits[0]).toContain("Bearer netlify-secret-token-1234");
  expect(internal.hits).toEqual([]);
});
