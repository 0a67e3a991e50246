import type { AddressInfo } from "node:net";
import type { CreatedShareLink, Deployment, Domain } from "@kiln/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DnsServer, startDnsServer } from "../testing/dns-server.ts";
import { type SignedUp, startTestKiln, type TestKiln, uniqueSlug } from "../testing/harness.ts";
import { previewGet } from "../testing/preview.ts";

/**
 * The hosts Kiln answers for tenants' published apps, attacked: a custom domain a tenant verified never
 * reaches the studio's API (not even with a studio session's cookie), a pending one neither; a deployment's
 * share cookie tossed by a sibling site under the publish domain neither hides the victim's own nor opens
 * the victim's deployment.
 */

let dns: DnsServer;
let kiln: TestKiln;
let victim: SignedUp;
let attacker: SignedUp;
let port: number;

beforeAll(async () => {
  dns = await startDnsServer();
  kiln = await startTestKiln({ env: { KILN_DNS_SERVERS: dns.server } });
  victim = await kiln.signup();
  attacker = await kiln.signup();
  await kiln.app.listen({ port: 0, host: "127.0.0.1" });
  port = (kiln.app.server.address() as AddressInfo).port;
}, 120_000);
afterAll(async () => {
  await kiln?.stop();
  await dns?.stop();
});

async function publishedSite(user: SignedUp, html: string) {
  const org = (await user.client.post("/api/orgs", { name: "O", slug: uniqueSlug("o") })).json();
  const res = await user.client.post(`/api/orgs/${org.slug}/projects`, { name: "Site", template: "static" });
  const { slug } = res.json() as { slug: string };
  const api = `/api/orgs/${org.slug}/projects/${slug}`;
  await user.client.put(`${api}/files/content`, { path: "index.html", content: html });
  const started = (await user.client.post(`${api}/deployments`)).json() as Deployment;
  for (const until = Date.now() + 60_000; Date.now() < until; ) {
    const d = (await user.client.get(`${api}/deployments/${started.id}`)).json() as Deployment;
    if (d.status !== "building") return { org, slug, api, deployment: d };
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("the build did not finish");
}

describe("published hosts", () => {
  it("a tenant's custom domain, verified or pending, never serves the studio or its API", async () => {
    const site = await publishedSite(attacker, "<h1>Attacker</h1>");
    const add = async (hostname: string) =>
      (await attacker.client.post(`${site.api}/domains`, { hostname })).json() as Domain;
    const verified = await add("evil.example.com");
    await dns.setTxt({ "_kiln-challenge.evil.example.com": [verified.verification.value] });
    const done = await attacker.client.post(`${site.api}/domains/${verified.id}/verify`);
    expect(done.json().status).toBe("verified");
    await add("pending-evil.example.com");

    // The victim's browser, tricked into asking these hosts, sends their cookies there only if they were
    // set there; even a studio cookie sent along gets the app's answer, never the API's.
    const studioCookie = [...victim.client.cookies].map(([name, c]) => `${name}=${c.value}`).join("; ");
    expect(studioCookie).toContain("kiln_at=");
    for (const host of ["evil.example.com", "pending-evil.example.com"]) {
      for (const path of ["/api/config", "/api/auth/me", "/health", "/api/orgs"]) {
        const res = await previewGet(port, host, path, studioCookie);
        expect(res.headers["content-type"], `${host}${path}`).not.toMatch(/application\/json/);
        expect(res.body, `${host}${path}`).not.toContain('"signupOpen"');
        expect(res.body).not.toContain(victim.user.email);
      }
    }
    const page = await previewGet(port, "evil.example.com", "/", studioCookie);
    expect(page.body).toContain("Attacker");
  });

  it("a share cookie tossed by a sibling site neither hides the holder's own nor opens another deployment", async () => {
    const mine = await publishedSite(victim, "<h1>Victim v1</h1>");
    const theirs = await publishedSite(attacker, "<h1>Attacker v1</h1>");
    const link = (
      await victim.client.post(`${mine.api}/deployments/${mine.deployment.id}/share-links`, {})
    ).json() as CreatedShareLink;
    const evil = (
      await attacker.client.post(`${theirs.api}/deployments/${theirs.deployment.id}/share-links`, {})
    ).json() as CreatedShareLink;
    const token = (url: string) => new URL(url).pathname.split("/").at(-1)!;
    const host = new URL(link.url).hostname;
    // Cookies of one name from several domains arrive together; the tossed ones first.
    const tossed = [token(evil.url), "A".repeat(43), "x"].map((t) => `kiln_version_share=${t}`).join("; ");
    const both = await previewGet(port, host, "/", `${tossed}; kiln_version_share=${token(link.url)}`);
    expect([both.status, both.body.includes("Victim v1")]).toEqual([200, true]);
    // The attacker's own (valid) token opens only the attacker's deployment, on its own host.
    const only = await previewGet(port, host, "/", `kiln_version_share=${token(evil.url)}`);
    expect(only.status).toBe(401);
    expect(only.body).not.toContain("Victim");
  });
});
