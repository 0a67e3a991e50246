import type { AuditEvent } from "@kiln/protocol";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditEvents } from "../db/schema-shared.ts";
import type { TestClient } from "../testing/client.ts";
import { type SignedUp, startTestKiln, type TestKiln, uniqueSlug } from "../testing/harness.ts";
import { startOidcProvider, type TestOidcProvider, throughProvider } from "../testing/oidc-provider.ts";
import { toAuditEvent } from "./service.ts";

/**
 * The audit log's people-and-access records (ADR 0033), each driven through the real routes and read back
 * through the audit API as the org's owner: sign-ins (password and a real OpenID provider), joins (by
 * invitation and by org single sign-on), invitations, personal and worker tokens, the org itself and its
 * single sign-on binding. A refused attempt records nothing.
 */

const PUBLIC = "http://localhost:4002";
let provider: TestOidcProvider;
let kiln: TestKiln;

beforeAll(async () => {
  provider = await startOidcProvider({ redirectUris: [`${PUBLIC}/api/auth/oidc/corp/callback`] });
  kiln = await startTestKiln({
    env: {
      KILN_PUBLIC_URL: PUBLIC,
      KILN_OIDC_PROVIDERS: "corp",
      KILN_OIDC_CORP_ISSUER: provider.issuer,
      KILN_OIDC_CORP_CLIENT_ID: provider.clientId,
      KILN_OIDC_CORP_CLIENT_SECRET: provider.clientSecret,
    },
  });
}, 120_000);

afterAll(async () => {
  await kiln?.stop();
  await provider?.close();
});

const actorOf = (who: SignedUp) => ({ type: "user", userId: who.user.id, email: who.user.email });

async function orgOf(owner: SignedUp) {
  const slug = uniqueSlug("people");
  const created = await owner.client.post("/api/orgs", { name: "People", slug });
  expect(created.statusCode, created.body).toBe(201);
  return { slug, orgId: created.json().id as string, base: `/api/orgs/${slug}/audit/events` };
}

async function events(client: TestClient, url: string): Promise<AuditEvent[]> {
  const res = await client.get(url);
  expect(res.statusCode, res.body).toBe(200);
  return res.json().events;
}

/** Invites `who` into the org and returns the invitation's link token. */
async function invite(owner: SignedUp, slug: string, email: string, role = "developer") {
  const invited = await owner.client.post(`/api/orgs/${slug}/invitations`, { email, role });
  expect(invited.statusCode, invited.body).toBe(201);
  return {
    id: invited.json().id as string,
    token: new URL(invited.json().url).pathname.split("/").at(-1)!,
  };
}

async function join(owner: SignedUp, slug: string, member: SignedUp, role = "developer") {
  const { token } = await invite(owner, slug, member.user.email, role);
  expect((await member.client.post(`/api/invitations/${token}/accept`)).statusCode).toBe(200);
}

/** A browser signing in through the provider as `login`, from `ip`. */
async function ssoSignIn(login: string, ip: string): Promise<TestClient> {
  const browser = kiln.client();
  const start = await browser.get("/api/auth/oidc/corp/start");
  const callback = await throughProvider(String(start.headers.location), login, PUBLIC);
  const done = await browser.get(callback, { remoteAddress: ip });
  expect(done.headers.location).toBe("/");
  return browser;
}

describe("people and access in the audit log", () => {
  it("auth.signed_in: a password sign-in is recorded in each of the person's orgs, with the IP; a wrong password or a refresh is not", async () => {
    const owner = await kiln.signup();
    const org = await orgOf(owner);
    const member = await kiln.signup();
    await join(owner, org.slug, member);

    const wrong = await kiln
      .client()
      .post(
        "/api/auth/login",
        { email: member.user.email, password: "not the password" },
        { remoteAddress: "203.0.113.9" },
      );
    expect(wrong.statusCode).toBe(401);
    expect(await events(owner.client, `${org.base}?action=auth.signed_in&actor=${member.user.id}`)).toEqual(
      [],
    );

    const browser = kiln.client();
    const login = await browser.post(
      "/api/auth/login",
      { email: member.user.email, password: member.password },
      { remoteAddress: "203.0.113.7" },
    );
    expect(login.statusCode, login.body).toBe(200);
    // A refresh continues the session: not a sign-in.
    expect((await browser.post("/api/auth/refresh")).statusCode).toBe(200);

    const expected = {
      action: "auth.signed_in",
      actor: actorOf(member),
      target: null,
      projectId: null,
      data: { method: "password" },
      ip: "203.0.113.7",
    };
    const inOrg = await events(owner.client, `${org.base}?action=auth.signed_in&actor=${member.user.id}`);
    expect(inOrg).toEqual([expect.objectContaining(expected)]);
    // Their personal org records it too (they own it there).
    const personal = await events(
      browser,
      `/api/orgs/${member.personalOrg.slug}/audit/events?action=auth.signed_in`,
    );
    expect(personal).toEqual([expect.objectContaining(expected)]);
  });

  it("auth.signed_in: a sign-in through an OpenID provider is recorded with the provider's id", async () => {
    const owner = await kiln.signup();
    const org = await orgOf(owner);
    // The provider vouches for the owner's verified address: the identity joins their account.
    provider.accounts.set("owner-oidc", { email: owner.user.email, email_verified: true });
    await ssoSignIn("owner-oidc", "198.51.100.4");
    expect(await events(owner.client, `${org.base}?action=auth.signed_in`)).toEqual([
      expect.objectContaining({
        action: "auth.signed_in",
        actor: actorOf(owner),
        target: null,
        data: { method: "corp" },
        ip: "198.51.100.4",
      }),
    ]);
  });

  it("member.joined: an accepted invitation is recorded; a refused one (another address) is not", async () => {
    const owner = await kiln.signup();
    const org = await orgOf(owner);
    const invited = await kiln.signup();
    const stranger = await kiln.signup();
    const { id, token } = await invite(owner, org.slug, invited.user.email, "viewer");

    const refused = await stranger.client.post(`/api/invitations/${token}/accept`);
    expect([refused.statusCode, refused.json().error.code]).toEqual([403, "invitation_email_mismatch"]);
    expect(await events(owner.client, `${org.base}?action=member.joined`)).toEqual([]);

    expect((await invited.client.post(`/api/invitations/${token}/accept`)).statusCode).toBe(200);
    expect(await events(owner.client, `${org.base}?action=member.joined`)).toEqual([
      expect.objectContaining({
        action: "member.joined",
        actor: actorOf(invited),
        target: { type: "user", id: invited.user.id, label: invited.user.email },
        data: { role: "viewer", via: "invitation", invitationId: id },
      }),
    ]);
  });

  it("member.joined: a just-in-time join through org single sign-on is recorded once", async () => {
    const owner = await kiln.signup();
    const org = await orgOf(owner);
    const domain = `${uniqueSlug("jit")}-kiln-test.com`;
    const put = await owner.client.put(`/api/orgs/${org.slug}/sso`, {
      provider: "corp",
      domains: [domain],
      defaultRole: "viewer",
      groupRoles: { engineers: "developer" },
    });
    expect(put.statusCode, put.body).toBe(200);
    // The DNS proof is org-sso.int.test.ts's; here the domain is marked proven directly.
    await kiln.database.db.execute(
      sql`UPDATE org_sso_domains SET verified_at = now() WHERE org_id = ${org.orgId}`,
    );
    const email = `jit@${domain}`;
    provider.accounts.set("jit", { email, groups: ["engineers"] });
    const jit = await ssoSignIn("jit", "198.51.100.8");
    const me = (await jit.get("/api/auth/me")).json();
    // Signing in again changes nothing: no second join.
    await ssoSignIn("jit", "198.51.100.8");

    expect(await events(owner.client, `${org.base}?action=member.joined`)).toEqual([
      expect.objectContaining({
        action: "member.joined",
        actor: { type: "user", userId: me.user.id, email },
        target: { type: "user", id: me.user.id, label: email },
        data: { role: "developer", via: "sso", provider: "corp" },
      }),
    ]);
    // Both sign-ins are recorded in the org they joined.
    const signedIn = await events(owner.client, `${org.base}?action=auth.signed_in&actor=${me.user.id}`);
    expect(signedIn.map((e) => [e.data.method, e.ip])).toEqual([
      ["corp", "198.51.100.8"],
      ["corp", "198.51.100.8"],
    ]);
  });

  it("invitation.created: the invited address and role, never the link", async () => {
    const owner = await kiln.signup();
    const org = await orgOf(owner);
    const { id, token } = await invite(owner, org.slug, "new-person@example.com", "admin");
    const recorded = await events(owner.client, `${org.base}?action=invitation.created`);
    expect(recorded).toEqual([
      expect.objectContaining({
        action: "invitation.created",
        actor: actorOf(owner),
        target: { type: "invitation", id, label: "new-person@example.com" },
        data: { role: "admin" },
      }),
    ]);
    expect(JSON.stringify(recorded)).not.toContain(token);
  });

  it("invitation.revoked: revoked by an admin, or replaced by a new invitation; revoking twice records once", async () => {
    const owner = await kiln.signup();
    const org = await orgOf(owner);
    const first = await invite(owner, org.slug, "twice@example.com", "viewer");
    const second = await invite(owner, org.slug, "twice@example.com", "developer");
    const url = `/api/orgs/${org.slug}/invitations/${second.id}`;
    expect((await owner.client.delete(url)).statusCode).toBe(200);
    expect((await owner.client.delete(url)).statusCode).toBe(404);
    expect(await events(owner.client, `${org.base}?action=invitation.revoked`)).toEqual([
      expect.objectContaining({
        actor: actorOf(owner),
        target: { type: "invitation", id: second.id, label: "twice@example.com" },
        data: { role: "developer" },
      }),
      expect.objectContaining({
        actor: actorOf(owner),
        target: { type: "invitation", id: first.id, label: "twice@example.com" },
        data: { role: "viewer", replacedById: second.id },
      }),
    ]);
  });

  it("token.created: a personal API token is recorded in each of its owner's orgs, never its value", async () => {
    const owner = await kiln.signup();
    const org = await orgOf(owner);
    const member = await kiln.signup();
    await join(owner, org.slug, member);
    const created = await member.client.post("/api/auth/tokens", { name: "laptop cli" });
    expect(created.statusCode, created.body).toBe(201);
    const { id, token, prefix } = created.json();
    const expected = expect.objectContaining({
      action: "token.created",
      actor: actorOf(member),
      target: { type: "api_token", id, label: "laptop cli" },
      data: { tokenPrefix: prefix, expiresAt: null },
    });
    const inOrg = await events(owner.client, `${org.base}?action=token.created`);
    expect(inOrg).toEqual([expected]);
    expect(
      await events(member.client, `/api/orgs/${member.personalOrg.slug}/audit/events?action=token.created`),
    ).toEqual([expected]);
    expect(JSON.stringify(inOrg)).not.toContain(token);
  });

  it("token.revoked: a personal API token's revocation is recorded; revoking someone else's is not", async () => {
    const owner = await kiln.signup();
    const org = await orgOf(owner);
    const other = await kiln.signup();
    const { id } = (await owner.client.post("/api/auth/tokens", { name: "ci" })).json();
    expect((await other.client.delete(`/api/auth/tokens/${id}`)).statusCode).toBe(404);
    expect(await events(owner.client, `${org.base}?action=token.revoked`)).toEqual([]);
    expect((await owner.client.delete(`/api/auth/tokens/${id}`)).statusCode).toBe(200);
    expect(await events(owner.client, `${org.base}?action=token.revoked`)).toEqual([
      expect.objectContaining({
        actor: actorOf(owner),
        target: { type: "api_token", id, label: "ci" },
        data: { tokenPrefix: expect.stringMatching(/^kiln_pat_/) },
      }),
    ]);
  });

  it("worker_token.created: an org's worker token, never its value", async () => {
    const owner = await kiln.signup();
    const org = await orgOf(owner);
    const created = await owner.client.post(`/api/orgs/${org.slug}/workers/tokens`, { name: "gpu box" });
    expect(created.statusCode, created.body).toBe(201);
    const { id, token, prefix } = created.json();
    const recorded = await events(owner.client, `${org.base}?action=worker_token.created`);
    expect(recorded).toEqual([
      expect.objectContaining({
        actor: actorOf(owner),
        target: { type: "worker_token", id, label: "gpu box" },
        data: { tokenPrefix: prefix },
      }),
    ]);
    expect(JSON.stringify(recorded)).not.toContain(token);
  });

  it("worker_token.revoked: recorded with who revoked it", async () => {
    const owner = await kiln.signup();
    const org = await orgOf(owner);
    const admin = await kiln.signup();
    await join(owner, org.slug, admin, "admin");
    const { id } = (
      await owner.client.post(`/api/orgs/${org.slug}/workers/tokens`, { name: "old box" })
    ).json();
    const url = `/api/orgs/${org.slug}/workers/tokens/${id}`;
    expect((await admin.client.delete(url)).statusCode).toBe(200);
    expect((await admin.client.delete(url)).statusCode).toBe(404);
    expect(await events(owner.client, `${org.base}?action=worker_token.revoked`)).toEqual([
      expect.objectContaining({
        actor: actorOf(admin),
        target: { type: "worker_token", id, label: "old box" },
        data: { tokenPrefix: expect.stringMatching(/^kiln_wrk_/) },
      }),
    ]);
  });

  it("org.created: the creator, in the new org", async () => {
    const owner = await kiln.signup();
    const org = await orgOf(owner);
    expect(await events(owner.client, `${org.base}?action=org.created`)).toEqual([
      expect.objectContaining({
        actor: actorOf(owner),
        target: { type: "org", id: org.orgId, label: "People" },
        data: { name: "People", slug: org.slug, personal: false },
      }),
    ]);
  });

  it("org.updated: the fields changed, new and old; a refused or empty change records nothing", async () => {
    const owner = await kiln.signup();
    const org = await orgOf(owner);
    const dev = await kiln.signup();
    await join(owner, org.slug, dev);
    expect((await dev.client.patch(`/api/orgs/${org.slug}`, { name: "Hijacked" })).statusCode).toBe(403);
    expect((await owner.client.patch(`/api/orgs/${org.slug}`, { name: "People" })).statusCode).toBe(200);
    expect(await events(owner.client, `${org.base}?action=org.updated`)).toEqual([]);

    const slug = uniqueSlug("renamed");
    const res = await owner.client.patch(`/api/orgs/${org.slug}`, { name: "Renamed", slug });
    expect(res.statusCode, res.body).toBe(200);
    expect(await events(owner.client, `/api/orgs/${slug}/audit/events?action=org.updated`)).toEqual([
      expect.objectContaining({
        actor: actorOf(owner),
        target: { type: "org", id: org.orgId, label: "Renamed" },
        data: {
          fields: ["name", "slug"],
          name: "Renamed",
          slug,
          previous: { name: "People", slug: org.slug },
        },
      }),
    ]);
  });

  it("org.deleted: recorded in the deletion's transaction, kept after the org is gone", async () => {
    const owner = await kiln.signup();
    const org = await orgOf(owner);
    const dev = await kiln.signup();
    await join(owner, org.slug, dev);
    expect((await dev.client.delete(`/api/orgs/${org.slug}`)).statusCode).toBe(403);
    expect(await events(owner.client, `${org.base}?action=org.deleted`)).toEqual([]);
    expect((await owner.client.delete(`/api/orgs/${org.slug}`)).statusCode).toBe(200);
    // The org and its API are gone; the record stays in the table.
    expect((await owner.client.get(org.base)).statusCode).toBe(404);
    const rows = await kiln.database.db
      .select()
      .from(auditEvents)
      .where(sql`${auditEvents.orgId} = ${org.orgId} AND ${auditEvents.action} = 'org.deleted'`);
    expect(rows.map(toAuditEvent)).toEqual([
      expect.objectContaining({
        actor: actorOf(owner),
        target: { type: "org", id: org.orgId, label: "People" },
        data: { name: "People", slug: org.slug, personal: false },
      }),
    ]);
  });

  it("sso.updated: provider, domains, default role and group mappings", async () => {
    const owner = await kiln.signup();
    const org = await orgOf(owner);
    const bad = await owner.client.put(`/api/orgs/${org.slug}/sso`, {
      provider: "nope",
      domains: ["x-kiln-test.com"],
    });
    expect(bad.statusCode).toBe(404);
    expect(await events(owner.client, `${org.base}?action=sso.updated`)).toEqual([]);
    const put = await owner.client.put(`/api/orgs/${org.slug}/sso`, {
      provider: "corp",
      domains: ["People-Kiln-Test.com", "people-kiln-test.org"],
      defaultRole: "viewer",
      groupRoles: { "api-token-admins": "admin", engineers: "developer" },
    });
    expect(put.statusCode, put.body).toBe(200);
    expect(await events(owner.client, `${org.base}?action=sso.updated`)).toEqual([
      expect.objectContaining({
        actor: actorOf(owner),
        target: { type: "sso", id: org.orgId, label: "corp" },
        data: {
          provider: "corp",
          domains: ["people-kiln-test.com", "people-kiln-test.org"],
          defaultRole: "viewer",
          groupRoles: [
            { group: "api-token-admins", role: "admin" },
            { group: "engineers", role: "developer" },
          ],
        },
      }),
    ]);
  });

  it("sso.removed: recorded when a binding goes; removing none records nothing", async () => {
    const owner = await kiln.signup();
    const org = await orgOf(owner);
    expect((await owner.client.delete(`/api/orgs/${org.slug}/sso`)).statusCode).toBe(204);
    expect(await events(owner.client, `${org.base}?action=sso.removed`)).toEqual([]);
    await owner.client.put(`/api/orgs/${org.slug}/sso`, {
      provider: "corp",
      domains: ["gone-kiln-test.com"],
    });
    expect((await owner.client.delete(`/api/orgs/${org.slug}/sso`)).statusCode).toBe(204);
    expect(await events(owner.client, `${org.base}?action=sso.removed`)).toEqual([
      expect.objectContaining({
        actor: actorOf(owner),
        target: { type: "sso", id: org.orgId, label: "corp" },
        data: { provider: "corp" },
      }),
    ]);
  });
});
