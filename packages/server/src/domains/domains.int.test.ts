import type { AddressInfo } from "node:net";
import type { Deployment, Domain } from "@kiln/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DnsServer, startDnsServer } from "../testing/dns-server.ts";
import { type SignedUp, startTestKiln, type TestKiln, uniqueSlug } from "../testing/harness.ts";
import { previewGet } from "../testing/preview.ts";

/**
 * Custom domains end to end: added through the API, verified against a real DNS server (dnsmasq answering
 * TXT records), served by host over real HTTP; what another org, a hostile name or a removal can do.
 */

let dns: DnsServer;
let kiln: TestKiln;
let owner: SignedUp;
let rival: SignedUp;
let org: { id: string; slug: string };
let rivalOrg: { id: string; slug: string };
let port: number;
let shop: { api: string; slug: string };

beforeAll(async () => {
  dns = await startDnsServer();
  kiln = await startTestKiln({ env: { KILN_DNS_SERVERS: dns.server } });
  owner = await kiln.signup();
  rival = await kiln.signup();
  org = (await owner.client.post("/api/orgs", { name: "Shop", slug: uniqueSlug("shop") })).json();
  rivalOrg = (await rival.client.post("/api/orgs", { name: "Rival", slug: uniqueSlug("rival") })).json();
  await kiln.app.listen({ port: 0, host: "127.0.0.1" });
  port = (kiln.app.server.address() as AddressInfo).port;
  shop = await newProject(owner, org.slug, "<h1>Hello from the shop</h1>");
  await publish(owner, shop.api);
}, 120_000);
afterAll(async () => {
  await kiln?.stop();
  await dns?.stop();
});

async function newProject(user: SignedUp, orgSlug: string, html: string) {
  const res = await user.client.post(`/api/orgs/${orgSlug}/projects`, { name: "Site", template: "static" });
  expect(res.statusCode, res.body).toBe(201);
  const { slug } = res.json() as { slug: string };
  const api = `/api/orgs/${orgSlug}/projects/${slug}`;
  const put = await user.client.put(`${api}/files/content`, { path: "index.html", content: html });
  expect(put.statusCode, put.body).toBe(200);
  return { api, slug };
}

async function publish(user: SignedUp, api: string): Promise<Deployment> {
  const res = await user.client.post(`${api}/deployments`);
  expect(res.statusCode, res.body).toBe(202);
  const id = (res.json() as Deployment).id;
  for (const until = Date.now() + 60_000; Date.now() < until; ) {
    const now = (await user.client.get(`${api}/deployments/${id}`)).json() as Deployment;
    if (now.status !== "building") {
      expect(now.status).toBe("ready");
      return now;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("the build did not finish");
}

async function add(user: SignedUp, api: string, hostname: string): Promise<Domain> {
  const res = await user.client.post(`${api}/domains`, { hostname });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as Domain;
}

async function verify(user: SignedUp, api: string, id: string): Promise<Domain> {
  const res = await user.client.post(`${api}/domains/${id}/verify`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as Domain;
}

const visit = (host: string, path = "/") => previewGet(port, host, path);
const check = (domain: string) => kiln.app.inject({ url: `/api/domains/check?domain=${domain}` });

describe("a custom domain", () => {
  it("serves the project's published app only once its TXT record holds the token", async () => {
    const domain = await add(owner, shop.api, "Shop.Example.com.");
    expect(domain).toMatchObject({
      hostname: "shop.example.com",
      status: "pending",
      verification: { type: "TXT", name: "_kiln-challenge.shop.example.com" },
      verifiedAt: null,
    });
    expect(domain.verification.value).toMatch(/^kiln-verify-[\w-]{32}$/);

    const pending = await visit("shop.example.com");
    expect(pending.status).toBe(404);
    expect(pending.body).toContain("shop.example.com is not verified yet");
    expect(pending.body).not.toContain("Hello from the shop");
    expect((await check("shop.example.com")).statusCode).toBe(404);

    // No record at all, then a record with someone else's token: still pending, and why.
    const missing = await verify(owner, shop.api, domain.id);
    expect(missing.status).toBe("pending");
    expect(missing.lastError).toMatch(/no TXT record at _kiln-challenge\.shop\.example\.com/);
    await dns.setTxt({ "_kiln-challenge.shop.example.com": ["kiln-verify-not-this-one"] });
    const wrong = await verify(owner, shop.api, domain.id);
    expect(wrong.status).toBe("pending");
    expect(wrong.lastError).toMatch(/does not hold this domain's token/);
    expect(wrong.checkedAt).not.toBeNull();
    expect((await visit("shop.example.com")).status).toBe(404);

    await dns.setTxt({
      "_kiln-challenge.shop.example.com": ["kiln-verify-not-this-one", domain.verification.value],
    });
    const verified = await verify(owner, shop.api, domain.id);
    expect(verified).toMatchObject({ status: "verified", lastError: null });
    expect(verified.verifiedAt).not.toBeNull();

    const page = await visit("shop.example.com");
    expect(page.status).toBe(200);
    expect(page.body).toContain("Hello from the shop");
    // As the publish host serves it: no cookies, no studio.
    expect(page.headers["set-cookie"]).toBeUndefined();
    expect((await visit("SHOP.example.com.:8443")).body).toContain("Hello from the shop");
    expect((await check("shop.example.com")).json()).toEqual({ domain: "shop.example.com", verified: true });

    const listed = (await owner.client.get(`${shop.api}/domains`)).json() as Domain[];
    expect(listed.map((d) => [d.hostname, d.status])).toEqual([["shop.example.com", "verified"]]);
  });

  it("serves whatever deployment is current: a new publish shows at once", async () => {
    const domain = await add(owner, shop.api, "current.example.com");
    await dns.setTxt({ "_kiln-challenge.current.example.com": [domain.verification.value] });
    expect((await verify(owner, shop.api, domain.id)).status).toBe("verified");
    const put = await owner.client.put(`${shop.api}/files/content`, {
      path: "index.html",
      content: "<h1>Second edition</h1>",
    });
    expect(put.statusCode).toBe(200);
    await publish(owner, shop.api);
    expect((await visit("current.example.com")).body).toContain("Second edition");
  });

  it("serves a server app there too, from its running process", async () => {
    const res = await owner.client.post(`/api/orgs/${org.slug}/projects`, {
      name: "Api",
      template: "node-api",
    });
    expect(res.statusCode, res.body).toBe(201);
    const api = `/api/orgs/${org.slug}/projects/${res.json().slug}`;
    await publish(owner, api);
    const domain = await add(owner, api, "api.example.net");
    await dns.setTxt({ "_kiln-challenge.api.example.net": [domain.verification.value] });
    expect((await verify(owner, api, domain.id)).status).toBe("verified");
    const health = await visit("api.example.net", "/api/health");
    expect([health.status, health.body]).toEqual([200, '{"ok":true}']);
    expect((await visit("api.example.net", "/")).body).toContain("Node API starter");
  }, 120_000);

  it("is one org's once verified: another org cannot add it, nor verify it with its own token", async () => {
    const theirs = await newProject(rival, rivalOrg.slug, "<h1>Rival</h1>");
    const taken = await rival.client.post(`${theirs.api}/domains`, { hostname: "shop.example.com" });
    expect(taken.statusCode).toBe(409);
    expect(taken.json().error.code).toBe("domain_taken");

    // Pending in both orgs: whoever proves it first has it.
    const mine = await add(owner, shop.api, "race.example.org");
    const rivals = await add(rival, theirs.api, "race.example.org");
    expect(rivals.verification.value).not.toBe(mine.verification.value);
    await dns.setTxt({ "_kiln-challenge.race.example.org": [rivals.verification.value] });
    expect((await verify(owner, shop.api, mine.id)).status).toBe("pending");
    expect((await verify(rival, theirs.api, rivals.id)).status).toBe("verified");
    await dns.setTxt({
      "_kiln-challenge.race.example.org": [rivals.verification.value, mine.verification.value],
    });
    const lost = await owner.client.post(`${shop.api}/domains/${mine.id}/verify`);
    expect(lost.statusCode).toBe(409);
    expect(lost.json().error.code).toBe("domain_taken");
    expect((await visit("race.example.org")).body).toContain("Nothing published here");

    // Within an org a hostname belongs to one project.
    const other = await newProject(owner, org.slug, "<h1>Other</h1>");
    const twice = await owner.client.post(`${other.api}/domains`, { hostname: "shop.example.com" });
    expect([twice.statusCode, twice.json().error.code]).toEqual([409, "domain_taken"]);
  });

  it("refuses hostile and malformed hostnames with a clear 400", async () => {
    const hostile: unknown[] = [
      "127.0.0.1",
      "[::1]",
      "*.example.com",
      "localhost",
      "com",
      "co.uk",
      "github.io",
      "localhost:4000",
      `${shop.slug}--${org.slug}.apps.localhost`,
      `${shop.slug}--${org.slug}.localhost`,
      "http://evil.example.com/",
      "../../etc/passwd",
      "evil.example.com/../x",
      "a..example.com",
      "evil\u0000.example.com",
      `${"a".repeat(64)}.example.com`,
      `${"abcdefghi.".repeat(25)}example.com`,
    ];
    for (const hostname of hostile) {
      const res = await owner.client.post(`${shop.api}/domains`, { hostname });
      expect(res.statusCode, `${String(hostname)}: ${res.body}`).toBe(400);
      expect(res.json().error.code).toBe("hostname_invalid");
    }
    for (const body of [
      {},
      { hostname: 42 },
      { hostname: "" },
      { hostname: "x.com", extra: 1 },
      { hostname: "a".repeat(600) },
    ]) {
      const res = await owner.client.post(`${shop.api}/domains`, body);
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json().error.code).toBe("validation_failed");
    }
    for (const query of ["", "?domain=", `?domain=${"a".repeat(400)}`, "?domain=127.0.0.1", "?domain=%00"]) {
      const res = await kiln.app.inject({ url: `/api/domains/check${query}` });
      expect([400, 404], `${query}: ${res.body}`).toContain(res.statusCode);
    }
    const listed = (await owner.client.get(`${shop.api}/domains`)).json() as Domain[];
    expect(listed.map((d) => d.hostname)).not.toContain("127.0.0.1");
  });

  it("needs an admin to add, verify or remove; ids of another project or nothing are not found", async () => {
    const res = await owner.client.post(`${shop.api}/domains/00000000-0000-4000-8000-000000000000/verify`);
    expect([res.statusCode, res.json().error.code]).toEqual([404, "domain_not_found"]);
    const domain = await add(owner, shop.api, "elsewhere.example.com");
    const other = await newProject(owner, org.slug, "<h1>Other</h1>");
    const foreign = await owner.client.delete(`${other.api}/domains/${domain.id}`);
    expect([foreign.statusCode, foreign.json().error.code]).toEqual([404, "domain_not_found"]);
    const outsider = await rival.client.post(`${shop.api}/domains`, { hostname: "mine.example.com" });
    expect(outsider.statusCode).toBe(404);
  });

  it("stops serving at once when removed, and frees the name", async () => {
    const domain = await add(owner, shop.api, "gone.example.com");
    await dns.setTxt({ "_kiln-challenge.gone.example.com": [domain.verification.value] });
    expect((await verify(owner, shop.api, domain.id)).status).toBe("verified");
    expect((await visit("gone.example.com")).body).toContain("<h1>");
    const removed = await owner.client.delete(`${shop.api}/domains/${domain.id}`);
    expect(removed.statusCode).toBe(204);
    const after = await visit("gone.example.com");
    expect(after.body).not.toContain("Second edition");
    expect(after.body).not.toContain("Hello from the shop");
    expect((await check("gone.example.com")).statusCode).toBe(404);
    const again = await owner.client.delete(`${shop.api}/domains/${domain.id}`);
    expect(again.statusCode).toBe(404);
    const theirs = await newProject(rival, rivalOrg.slug, "<h1>Rival</h1>");
    await add(rival, theirs.api, "gone.example.com");
  });

  it("goes with its project: a deleted project's domain serves nothing and is free again", async () => {
    const doomed = await newProject(owner, org.slug, "<h1>Doomed</h1>");
    await publish(owner, doomed.api);
    const domain = await add(owner, doomed.api, "doomed.example.net");
    await dns.setTxt({ "_kiln-challenge.doomed.example.net": [domain.verification.value] });
    expect((await verify(owner, doomed.api, domain.id)).status).toBe("verified");
    expect((await visit("doomed.example.net")).body).toContain("Doomed");
    expect((await owner.client.delete(doomed.api)).statusCode).toBe(200);
    expect((await visit("doomed.example.net")).body).not.toContain("Doomed");
    expect((await check("doomed.example.net")).statusCode).toBe(404);
    const theirs = await newProject(rival, rivalOrg.slug, "<h1>Rival</h1>");
    await add(rival, theirs.api, "doomed.example.net");
  });
});
