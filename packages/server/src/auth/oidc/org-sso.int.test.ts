import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { query } from "../../db/client.ts";
import type { TestClient } from "../../testing/client.ts";
import { type DnsServer, startDnsServer } from "../../testing/dns-server.ts";
import { startTestKiln, type TestKiln, uniqueSlug } from "../../testing/harness.ts";
import { startOidcProvider, type TestOidcProvider, throughProvider } from "../../testing/oidc-provider.ts";

/**
 * Org single sign-on against a real OpenID provider and a real DNS server (dnsmasq): an org proves its
 * email domain with a TXT record, binds it to the provider, and people of that domain who sign in there
 * join it with the role their groups map to; someone removed at the provider loses access at the next
 * refresh of their session. Another org cannot take a domain that is bound, nor pull in a domain it has
 * not proven.
 */

const PUBLIC = "http://localhost:4001";
let provider: TestOidcProvider;
let dns: DnsServer;
let kiln: TestKiln;

beforeAll(async () => {
  provider = await startOidcProvider({ redirectUris: [`${PUBLIC}/api/auth/oidc/corp/callback`] });
  dns = await startDnsServer();
  kiln = await startTestKiln({
    env: {
      KILN_PUBLIC_URL: PUBLIC,
      KILN_DNS_SERVERS: dns.server,
      KILN_OIDC_PROVIDERS: "corp",
      KILN_OIDC_CORP_ISSUER: provider.issuer,
      KILN_OIDC_CORP_CLIENT_ID: provider.clientId,
      KILN_OIDC_CORP_CLIENT_SECRET: provider.clientSecret,
    },
  });
}, 120_000);

afterAll(async () => {
  await kiln?.stop();
  await dns?.stop();
  await provider?.close();
});

const atProvider = (authorizeUrl: string, login: string) => throughProvider(authorizeUrl, login, PUBLIC);

async function ssoSignIn(login: string): Promise<TestClient> {
  const browser = kiln.client();
  const start = await browser.get("/api/auth/oidc/corp/start");
  const done = await browser.get(await atProvider(String(start.headers.location), login));
  expect(done.headers.location).toBe("/");
  return browser;
}

async function roleIn(client: TestClient, org: string): Promise<string | undefined> {
  const me = (await client.get("/api/auth/me")).json();
  return me.orgs?.find((o: { slug: string }) => o.slug === org)?.role;
}

describe("org single sign-on", () => {
  it("joins people of a proven domain with their groups' role, and ends access when the provider drops them", async () => {
    const admin = await kiln.signup();
    const org = uniqueSlug("acme");
    expect((await admin.client.post("/api/orgs", { name: "Acme", slug: org })).statusCode).toBe(201);
    const put = await admin.client.put(`/api/orgs/${org}/sso`, {
      provider: "corp",
      domains: ["Acme-Kiln-Test.com"],
      defaultRole: "viewer",
      groupRoles: { engineers: "developer", "kiln-admins": "admin" },
    });
    expect(put.statusCode, put.body).toBe(200);
    const [domain] = put.json().domains;
    expect(domain).toMatchObject({ domain: "acme-kiln-test.com", verified: false });

    // Not proven yet: signing in does not join anyone.
    provider.accounts.set("early", { email: "early@acme-kiln-test.com", groups: ["engineers"] });
    expect(await roleIn(await ssoSignIn("early"), org)).toBeUndefined();

    // The wrong record keeps it pending with a reason; the right one proves it.
    await dns.setTxt({ "_kiln-challenge.acme-kiln-test.com": ["kiln-sso=not-it"] });
    const wrong = (await admin.client.post(`/api/orgs/${org}/sso/verify`)).json();
    expect(wrong.domains[0]).toMatchObject({ verified: false });
    expect(wrong.domains[0].lastError).toMatch(/does not hold/);
    await dns.setTxt({ "_kiln-challenge.acme-kiln-test.com": [domain.token] });
    const proven = await admin.client.post(`/api/orgs/${org}/sso/verify`);
    expect(proven.json().domains[0].verified).toBe(true);

    provider.accounts.set("erin", { email: "erin@acme-kiln-test.com", groups: ["engineers"] });
    provider.accounts.set("otto", { email: "otto@acme-kiln-test.com", groups: ["kiln-admins", "engineers"] });
    provider.accounts.set("vic", { email: "vic@acme-kiln-test.com" });
    provider.accounts.set("stranger", { email: "someone@elsewhere.example", groups: ["kiln-admins"] });
    const erin = await ssoSignIn("erin");
    expect(await roleIn(erin, org)).toBe("developer");
    expect(await roleIn(await ssoSignIn("otto"), org)).toBe("admin");
    expect(await roleIn(await ssoSignIn("vic"), org)).toBe("viewer");
    expect(await roleIn(await ssoSignIn("stranger"), org)).toBeUndefined();
    // The org's projects are Erin's to work on now.
    expect((await erin.get(`/api/orgs/${org}/projects`)).statusCode).toBe(200);

    // Moved to another group at the provider: the next refresh changes the role.
    provider.accounts.set("erin", { email: "erin@acme-kiln-test.com", groups: ["kiln-admins"] });
    expect((await erin.post("/api/auth/refresh")).statusCode).toBe(200);
    expect(await roleIn(erin, org)).toBe("admin");

    // Removed at the provider: the next refresh ends the session and the membership.
    provider.accounts.set("erin", { email: "erin@acme-kiln-test.com", removed: true });
    const refused = await erin.post("/api/auth/refresh");
    expect([refused.statusCode, refused.json().error.code]).toEqual([401, "session_revoked"]);
    expect((await erin.get(`/api/orgs/${org}/projects`)).statusCode).toBe(401);
    const members = (await admin.client.get(`/api/orgs/${org}/members`)).json();
    expect(members.map((m: { email: string }) => m.email)).not.toContain("erin@acme-kiln-test.com");
  });

  it("refuses a domain another org has proven, bad bindings, and anyone but an admin", async () => {
    const admin = await kiln.signup();
    const org = uniqueSlug("beta");
    await admin.client.post("/api/orgs", { name: "Beta", slug: org });
    const put = await admin.client.put(`/api/orgs/${org}/sso`, {
      provider: "corp",
      domains: ["acme-kiln-test.com"],
    });
    expect(put.statusCode).toBe(200);
    // Even holding the DNS record too, a domain another org has proven stays that org's.
    const [first] = await query<{ token: string }>(
      kiln.database.db,
      sql`SELECT token FROM org_sso_domains WHERE domain = 'acme-kiln-test.com' AND verified_at IS NOT NULL`,
    );
    await dns.setTxt({
      "_kiln-challenge.acme-kiln-test.com": [first!.token, put.json().domains[0].token],
    });
    const taken = await admin.client.post(`/api/orgs/${org}/sso/verify`);
    expect([taken.statusCode, taken.json().error.code]).toEqual([409, "domain_taken"]);

    for (const body of [
      { provider: "nope", domains: ["beta-kiln-test.com"] },
      { provider: "corp", domains: ["localhost"] },
      { provider: "corp", domains: ["*.beta-kiln-test.com"] },
      { provider: "corp", domains: ["beta-kiln-test.com"], defaultRole: "owner" },
      { provider: "corp", domains: [] },
      { provider: "corp", domains: ["beta-kiln-test.com"], extra: true },
    ]) {
      const res = await admin.client.put(`/api/orgs/${org}/sso`, body);
      expect(res.statusCode, JSON.stringify(body)).toBeGreaterThanOrEqual(400);
      expect(res.statusCode, JSON.stringify(body)).toBeLessThan(500);
    }
    const dev = await kiln.signup();
    const invited = await admin.client.post(`/api/orgs/${org}/invitations`, {
      email: dev.user.email,
      role: "developer",
    });
    const token = new URL(invited.json().url).pathname.split("/").pop();
    await dev.client.post(`/api/invitations/${token}/accept`);
    const res = await dev.client.get(`/api/orgs/${org}/sso`);
    expect([res.statusCode, res.json().error.code]).toEqual([403, "forbidden"]);
  });

  it("asks members from the bound domain to come through the provider: a password session or token gets sso_required", async () => {
    const boss = await kiln.signup({ email: `boss-${uniqueSlug()}@gamma-kiln-test.com` });
    const org = uniqueSlug("gamma");
    expect((await boss.client.post("/api/orgs", { name: "Gamma", slug: org })).statusCode).toBe(201);
    const put = await boss.client.put(`/api/orgs/${org}/sso`, {
      provider: "corp",
      domains: ["gamma-kiln-test.com"],
    });
    await dns.setTxt({ "_kiln-challenge.gamma-kiln-test.com": [put.json().domains[0].token] });
    expect((await boss.client.post(`/api/orgs/${org}/sso/verify`)).json().domains[0].verified).toBe(true);

    const invite = async (email: string) => {
      const invited = await boss.client.post(`/api/orgs/${org}/invitations`, { email, role: "developer" });
      return new URL(invited.json().url).pathname.split("/").pop();
    };
    const pat = await kiln.signup({ email: `pat-${uniqueSlug()}@gamma-kiln-test.com` });
    const outsider = await kiln.signup();
    for (const who of [pat, outsider]) {
      expect(
        (await who.client.post(`/api/invitations/${await invite(who.user.email)}/accept`)).statusCode,
      ).toBe(200);
    }
    const projects = `/api/orgs/${org}/projects`;
    // Pat signed in with a password: the org is closed to that session and to Pat's API token.
    const refused = await pat.client.get(projects);
    expect([refused.statusCode, refused.json().error.code, refused.json().error.details]).toEqual([
      403,
      "sso_required",
      { provider: "corp" },
    ]);
    const token = (await pat.client.post("/api/auth/tokens", { name: "script" })).json().token as string;
    const bearer = kiln.client();
    bearer.bearer = token;
    expect((await bearer.get(projects)).json().error.code).toBe("sso_required");
    expect((await bearer.get(`/v1/models`, { headers: { "x-kiln-org": org } })).json().error?.code).toBe(
      "sso_required",
    );
    // Through the provider it opens. Someone from another domain and the owner (the way back in) are not asked.
    provider.accounts.set("pat", { email: pat.user.email });
    expect((await (await ssoSignIn("pat")).get(projects)).statusCode).toBe(200);
    expect((await outsider.client.get(projects)).statusCode).toBe(200);
    expect((await boss.client.get(projects)).statusCode).toBe(200);
  });
});
