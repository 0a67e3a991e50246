import { lchown, symlink } from "node:fs/promises";
import path from "node:path";
import type { Deployment, DeployTarget } from "@kiln/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeCloudflare } from "../../testing/deploy-hosts/cloudflare-pages.ts";
import { startFakeNetlify } from "../../testing/deploy-hosts/netlify.ts";
import { startFakeVercel } from "../../testing/deploy-hosts/vercel.ts";
import { type SignedUp, startTestKiln, type TestKiln, uniqueSlug } from "../../testing/harness.ts";

/**
 * Each external adapter deploys the counter app (react-vite) to its strict local fake (ADR 0024): the same
 * build, record and log as Kiln's hosting; the record shows the provider's URL; the fake holds the built files.
 */

const TOKENS = {
  vercel: "vercel-token-0123456789",
  netlify: "netlify-token-0123456789",
  cf: "cf-token-0123456789",
};
const ACCOUNT = "0123456789abcdef0123456789abcdef";

let fakes: {
  vercel: Awaited<ReturnType<typeof startFakeVercel>>;
  netlify: Awaited<ReturnType<typeof startFakeNetlify>>;
  cloudflare: Awaited<ReturnType<typeof startFakeCloudflare>>;
};
let kiln: TestKiln;
let owner: SignedUp;
let org: string;
let api: string;

beforeAll(async () => {
  fakes = {
    vercel: await startFakeVercel({ token: TOKENS.vercel, teamId: "team_kiln" }),
    netlify: await startFakeNetlify({ token: TOKENS.netlify }),
    cloudflare: await startFakeCloudflare({ token: TOKENS.cf, accountId: ACCOUNT }),
  };
  const hostOf = (url: string) => new URL(url).host;
  kiln = await startTestKiln({
    env: {
      KILN_VERCEL_API_URL: fakes.vercel.url,
      KILN_NETLIFY_API_URL: fakes.netlify.url,
      KILN_CLOUDFLARE_API_URL: fakes.cloudflare.url,
      KILN_DEPLOY_POLL_MS: "20",
      // The fakes listen on loopback, which the egress policy refuses unless the operator exempts it.
      KILN_EGRESS_ALLOW: Object.values(fakes)
        .map((f) => hostOf(f.url))
        .join(","),
    },
  });
  owner = await kiln.signup();
  org = uniqueSlug("ship");
  expect((await owner.client.post("/api/orgs", { name: "Ship", slug: org })).statusCode).toBe(201);
  const project = await owner.client.post(`/api/orgs/${org}/projects`, {
    name: "Counter",
    template: "react-vite",
  });
  expect(project.statusCode, project.body).toBe(201);
  api = `/api/orgs/${org}/projects/${project.json().slug}`;
}, 120_000);

afterAll(async () => {
  await kiln?.stop();
  await Promise.all(Object.values(fakes ?? {}).map((f) => f.close()));
});

async function addTarget(body: object): Promise<DeployTarget> {
  const res = await owner.client.post(`/api/orgs/${org}/deploy-targets`, body);
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

async function deploy(target: DeployTarget): Promise<{ deployment: Deployment; log: string }> {
  const res = await owner.client.post(`${api}/deploy-targets/${target.id}/deployments`);
  expect(res.statusCode, res.body).toBe(202);
  const started = res.json() as Deployment;
  expect([started.status, started.target?.id, started.current]).toEqual(["building", target.id, false]);
  for (const until = Date.now() + 90_000; Date.now() < until; ) {
    const now = (await owner.client.get(`${api}/deployments/${started.id}`)).json() as Deployment;
    if (now.status !== "building") {
      const log = (await owner.client.get(`${api}/deployments/${started.id}/log`)).json().log as string;
      return { deployment: now, log };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("the deployment did not finish");
}

/** The built page and the script it loads, as the fake host holds them. */
function expectCounterApp(files: Map<string, Buffer> | undefined) {
  expect(files).toBeDefined();
  const page = files!.get("index.html")?.toString("utf8") ?? "";
  expect(page).toContain('<div id="root"></div>');
  const script = /src="\/(assets\/[^"]+\.js)"/.exec(page)?.[1];
  expect(script, page).toBeDefined();
  expect(files!.get(script!)?.toString("utf8")).toContain("Clicked");
}

describe("deploying the counter app to an external target", () => {
  it("Vercel: files uploaded by SHA-1 after missing_files, deployment READY, its URL on the record", async () => {
    const target = await addTarget({
      kind: "vercel",
      name: "Vercel",
      token: TOKENS.vercel,
      teamId: "team_kiln",
    });
    const { deployment, log } = await deploy(target);
    expect(deployment.status, log).toBe("ready");
    expect(deployment.url).toMatch(/^https:\/\/[a-z0-9-]+\.vercel\.app$/);
    expect(deployment.files).toBeGreaterThan(1);
    expect(log).toContain("$ npm run build");
    expect(log).toMatch(/vercel: uploading \d+ of \d+ files/);
    expect(log).toContain(`live at ${deployment.url}`);
    const [id] = [...fakes.vercel.deployments.keys()];
    expect(fakes.vercel.calls.filter((c) => c === "POST /v13/deployments")).toHaveLength(2);
    expectCounterApp(fakes.vercel.filesOf(id!));
    // An SPA gets Vercel's rewrite to index.html, made by Kiln.
    expect(JSON.parse(fakes.vercel.filesOf(id!)!.get("vercel.json")!.toString()).rewrites).toHaveLength(1);
    // The provider-side project is remembered for the next deployment.
    const linked = (await owner.client.get(`${api}/deploy-targets`)).json();
    expect(linked.find((l: { target: { id: string } }) => l.target.id === target.id).providerProject).toBe(
      fakes.vercel.deployments.get(id!)!.name,
    );
  }, 120_000);

  it("Netlify: a site made once, required files PUT, deploy ready, its URL on the record", async () => {
    const target = await addTarget({ kind: "netlify", name: "Netlify", token: TOKENS.netlify });
    const { deployment, log } = await deploy(target);
    expect(deployment.status, log).toBe("ready");
    expect(deployment.url).toMatch(/^https:\/\/[0-9a-f]+--[a-z0-9-]+\.netlify\.app$/);
    expect(log).toMatch(/netlify: site [a-z0-9-]+ created/);
    const [id] = [...fakes.netlify.deploys.keys()];
    expectCounterApp(fakes.netlify.filesOf(id!));
    expect(fakes.netlify.filesOf(id!)!.get("_redirects")?.toString()).toContain("/index.html");
    expect(fakes.netlify.sites.size).toBe(1);
    // The site removed on Netlify's side: the next deployment makes a new one and remembers it.
    fakes.netlify.sites.clear();
    const again = await deploy(target);
    expect(again.deployment.status, again.log).toBe("ready");
    expect(again.log).toMatch(/netlify: site [0-9a-f-]+ is gone on the provider; making a new one/);
    expect(fakes.netlify.sites.size).toBe(1);
    const linked = (await owner.client.get(`${api}/deploy-targets`)).json();
    expect(linked.find((l: { target: { id: string } }) => l.target.id === target.id).providerProject).toBe(
      [...fakes.netlify.sites.keys()][0],
    );
  }, 120_000);

  it("Cloudflare Pages: a project, the upload JWT, missing assets uploaded, deployment live, its URL on the record", async () => {
    const target = await addTarget({
      kind: "cloudflare-pages",
      name: "Pages",
      token: TOKENS.cf,
      accountId: ACCOUNT,
    });
    const { deployment, log } = await deploy(target);
    expect(deployment.status, log).toBe("ready");
    expect(deployment.url).toMatch(/^https:\/\/[0-9a-f]{8}\.[a-z0-9-]+\.pages\.dev$/);
    const [id] = [...fakes.cloudflare.deployments.keys()];
    expectCounterApp(fakes.cloudflare.filesOf(id!));
    // Deployed again: the project is reused and no asset is uploaded twice.
    const again = await deploy(target);
    expect(again.deployment.status, again.log).toBe("ready");
    expect(again.log).toContain("cloudflare: uploading 0 of");
    expect(fakes.cloudflare.projects.size).toBe(1);
    expect(fakes.cloudflare.calls.filter((c) => c.endsWith("/pages/projects"))).toHaveLength(1);
  }, 120_000);

  it("ships a tenant's odd file names as names, and nothing a hostile workspace plants", async () => {
    const target = await addTarget({ kind: "netlify", name: "Netlify odd", token: TOKENS.netlify });
    const created = await owner.client.post(`/api/orgs/${org}/projects`, { name: "Odd", template: "static" });
    const odd = `/api/orgs/${org}/projects/${created.json().slug}`;
    // (A name starting with a dot is never published at all: artifacts.ts leaves dot-files out.)
    const names = ["a b#c?d.html", "up%2F..%2F..%2Fescape.html", "café/ünï.txt", "100%.txt"];
    for (const path of names) {
      const res = await owner.client.put(`${odd}/files/content`, {
        path,
        content: path,
        createParents: true,
      });
      expect(res.statusCode, res.body).toBe(200);
    }
    // Planted as the project's own code would: owned by its sandbox user.
    const dir = kiln.storage.projectDir(created.json().orgId, created.json().id);
    const uid = kiln.driver.workspaceOwner(created.json().id);
    await symlink("/etc/passwd", path.join(dir, "passwd.html"));
    if (uid) await lchown(path.join(dir, "passwd.html"), uid.uid, uid.gid);
    expect(
      (await owner.client.put(`${odd}/files/content`, { path: ".env", content: "SECRET=1" })).statusCode,
    ).toBe(200);
    const res = await owner.client.post(`${odd}/deploy-targets/${target.id}/deployments`);
    expect(res.statusCode, res.body).toBe(202);
    let done: Deployment | undefined;
    for (const until = Date.now() + 60_000; Date.now() < until; ) {
      done = (await owner.client.get(`${odd}/deployments/${res.json().id}`)).json() as Deployment;
      if (done.status !== "building") break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(done?.status, done?.error ?? "").toBe("ready");
    const deploy = [...fakes.netlify.deploys.entries()].find(([, d]) => d.files.has("/a b#c?d.html"))?.[0];
    const files = fakes.netlify.filesOf(deploy!)!;
    for (const path of names) expect(files.get(path)?.toString(), path).toBe(path);
    expect([files.has("passwd.html"), files.has(".env")]).toEqual([false, false]);
    const log = (await owner.client.get(`${odd}/deployments/${done!.id}/log`)).json().log as string;
    expect(log).toContain("passwd.html: a symlink");
  }, 120_000);
});
