import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectError } from "../testing/api.ts";
import type { TestClient } from "../testing/client.ts";
import { type SignedUp, startTestKiln, type TestKiln, uniqueEmail, uniqueSlug } from "../testing/harness.ts";
import { startOidcProvider, throughProvider } from "../testing/oidc-provider.ts";

/**
 * The instance administrator (ADR 0034): who it is, what only it can reach, suspending an account (every way
 * in closes, and opens again), and who may sign up. Each test file has a database of its own, so the first
 * account made here is the instance's first.
 */

let kiln: TestKiln;
let admin: SignedUp;
let someone: SignedUp;

beforeAll(async () => {
  kiln = await startTestKiln();
  admin = await kiln.signup({ name: "Operator" });
  someone = await kiln.signup({ name: "Someone" });
});
afterAll(() => kiln?.stop());

const ADMIN_GETS = ["/api/admin/overview", "/api/admin/users", "/api/admin/orgs", "/api/admin/signup-policy"];

async function login(email: string, password = "correct horse battery") {
  const client = kiln.client();
  const res = await client.post("/api/auth/login", { email, password });
  return { client, res };
}

async function setPolicy(body: unknown) {
  const res = await admin.client.put("/api/admin/signup-policy", body);
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

describe("the instance administrator", () => {
  it("is the first verified account; nobody else reaches /api/admin", async () => {
    expect((await admin.client.get("/api/auth/me")).json().instanceAdmin).toBe(true);
    expect((await someone.client.get("/api/auth/me")).json().instanceAdmin).toBe(false);
    for (const url of ADMIN_GETS) {
      expect((await admin.client.get(url)).statusCode, url).toBe(200);
      expectError(await someone.client.get(url), 403, "not_instance_admin");
      expectError(await kiln.client().get(url), 401, "unauthenticated");
    }
    expectError(
      await someone.client.post(`/api/admin/users/${admin.user.id}/suspend`),
      403,
      "not_instance_admin",
    );
    expectError(
      await someone.client.put("/api/admin/signup-policy", { mode: "closed" }),
      403,
      "not_instance_admin",
    );
    // An unverified account is nobody's admin.
    const late = await kiln.signup({ verify: false });
    expect((await late.client.get("/api/auth/me")).json().instanceAdmin).toBe(false);
  });

  it("is whoever KILN_ADMIN_EMAILS names instead, when it is set", async () => {
    const named = await startTestKiln({
      database: kiln.database,
      env: { KILN_ADMIN_EMAILS: ` ${someone.user.email.toUpperCase()} , nobody@example.com` },
    });
    try {
      const asSomeone = named.client();
      expect(
        (await asSomeone.post("/api/auth/login", { email: someone.user.email, password: someone.password }))
          .statusCode,
      ).toBe(200);
      expect((await asSomeone.get("/api/auth/me")).json().instanceAdmin).toBe(true);
      expect((await asSomeone.get("/api/admin/users")).statusCode).toBe(200);
      const asFirst = named.client();
      await asFirst.post("/api/auth/login", { email: admin.user.email, password: admin.password });
      expectError(await asFirst.get("/api/admin/users"), 403, "not_instance_admin");
    } finally {
      await named.stop();
    }
  });

  it("lists and searches accounts and orgs, wildcards taken literally", async () => {
    const tag = uniqueSlug("find").replace("-", "_");
    const found = await kiln.signup({ email: uniqueEmail(tag), name: "Findable Person" });
    await found.client.post("/api/orgs", { name: `Org ${tag}`, slug: uniqueSlug("findorg") });
    const users = (await admin.client.get(`/api/admin/users?q=${tag}`)).json();
    expect(users.total).toBe(1);
    expect(users.users).toEqual([
      expect.objectContaining({
        id: found.user.id,
        email: found.user.email,
        emailVerified: true,
        suspendedAt: null,
        instanceAdmin: false,
        orgs: 2,
      }),
    ]);
    // `_` and `%` match themselves, not any character.
    expect((await admin.client.get(`/api/admin/users?q=${tag.replace("_", "%25")}`)).json().total).toBe(0);
    const all = (await admin.client.get("/api/admin/users?limit=2")).json();
    expect(all.users.length).toBe(2);
    expect(all.total).toBeGreaterThanOrEqual(4);
    const page2 = (await admin.client.get("/api/admin/users?limit=2&offset=2")).json();
    expect(page2.users.map((u: { id: string }) => u.id)).not.toContain(all.users[0].id);
    const me = (await admin.client.get(`/api/admin/users?q=${encodeURIComponent(admin.user.email)}`)).json();
    expect(me.users[0].instanceAdmin).toBe(true);

    const orgs = (await admin.client.get(`/api/admin/orgs?q=${tag}`)).json();
    expect(orgs.orgs).toEqual([
      expect.objectContaining({
        name: `Org ${tag}`,
        personal: false,
        members: 1,
        owners: [found.user.email],
      }),
    ]);
    for (const q of ["limit=0", "limit=101", "offset=-1", `q=${"x".repeat(201)}`, "bogus=1"]) {
      expectError(await admin.client.get(`/api/admin/users?${q}`), 400, "validation_failed");
    }
  });

  it("suspends an account: signed out everywhere, its API token stops, it cannot sign in — until unsuspended", async () => {
    const member = await kiln.signup();
    const token = (await member.client.post("/api/auth/tokens", { name: "ci" })).json().token as string;
    const bearer: TestClient = kiln.client();
    bearer.bearer = token;
    expect((await bearer.get("/api/auth/me")).statusCode).toBe(200);

    const suspended = await admin.client.post(`/api/admin/users/${member.user.id}/suspend`);
    expect(suspended.statusCode, suspended.body).toBe(200);
    expect(suspended.json().suspendedAt).toEqual(expect.any(String));
    expectError(await member.client.get("/api/auth/me"), 401, "session_revoked");
    expectError(await bearer.get("/api/auth/me"), 403, "account_suspended");
    expectError((await login(member.user.email, member.password)).res, 403, "account_suspended");
    // The wrong password still says only that: suspension is not revealed to someone guessing.
    expectError((await login(member.user.email, "wrong password!")).res, 401, "invalid_credentials");
    expect((await admin.client.get("/api/admin/overview")).json().suspendedUsers).toBeGreaterThanOrEqual(1);

    // Not oneself, not an unknown account.
    expectError(await admin.client.post(`/api/admin/users/${admin.user.id}/suspend`), 409, "conflict");
    expectError(
      await admin.client.post("/api/admin/users/00000000-0000-4000-8000-000000000000/suspend"),
      404,
      "user_not_found",
    );
    expectError(await admin.client.post("/api/admin/users/not-an-id/suspend"), 400, "validation_failed");

    const back = await admin.client.post(`/api/admin/users/${member.user.id}/unsuspend`);
    expect(back.json().suspendedAt).toBeNull();
    expect((await login(member.user.email, member.password)).res.statusCode).toBe(200);
    expect((await bearer.get("/api/auth/me")).statusCode).toBe(200);
  });

  it("decides who may sign up: invited addresses, some domains, nobody, anyone", async () => {
    const signup = (email: string) =>
      kiln.client().post("/api/auth/signup", { email, password: "correct horse battery", name: "New" });
    expect((await admin.client.get("/api/admin/signup-policy")).json()).toMatchObject({ mode: "open" });
    try {
      await setPolicy({ mode: "invite_only" });
      expectError(await signup(uniqueEmail("stranger")), 403, "signup_not_allowed");
      const invitee = uniqueEmail("invitee");
      const slug = uniqueSlug("team");
      expect((await admin.client.post("/api/orgs", { name: "Team", slug })).statusCode).toBe(201);
      const invited = await admin.client.post(`/api/orgs/${slug}/invitations`, {
        email: invitee,
        role: "developer",
      });
      expect(invited.statusCode, invited.body).toBe(201);
      expect((await signup(invitee.toUpperCase())).statusCode).toBe(201);

      const policy = await setPolicy({ mode: "domains", domains: ["Example.ORG", "example.org"] });
      expect(policy).toMatchObject({ mode: "domains", domains: ["example.org"] });
      expect((await signup(`x-${uniqueSlug()}@example.org`)).statusCode).toBe(201);
      expectError(await signup(`x-${uniqueSlug()}@evil-example.org`), 403, "signup_not_allowed");
      expectError(await signup(`x-${uniqueSlug()}@example.org.evil.test`), 403, "signup_not_allowed");

      await setPolicy({ mode: "closed" });
      expectError(await signup(uniqueEmail("closed")), 403, "signup_not_allowed");
      // Signing in is untouched.
      expect((await login(someone.user.email, someone.password)).res.statusCode).toBe(200);

      for (const body of [
        { mode: "domains", domains: [] },
        { mode: "domains", domains: ["not a domain"] },
        { mode: "domains", domains: ["a".repeat(300)] },
        { mode: "sometimes" },
        { mode: "open", extra: 1 },
      ]) {
        expectError(await admin.client.put("/api/admin/signup-policy", body), 400, "validation_failed");
      }
    } finally {
      await setPolicy({ mode: "open" });
    }
    expect((await signup(uniqueEmail("open"))).statusCode).toBe(201);
  });

  it("holds single sign-on to the policy too: a new account through a provider is refused when sign-up is closed", async () => {
    const PUBLIC = "http://localhost:4003";
    const provider = await startOidcProvider({ redirectUris: [`${PUBLIC}/api/auth/oidc/corp/callback`] });
    const sso = await startTestKiln({
      database: kiln.database,
      env: {
        KILN_PUBLIC_URL: PUBLIC,
        KILN_OIDC_PROVIDERS: "corp",
        KILN_OIDC_CORP_ISSUER: provider.issuer,
        KILN_OIDC_CORP_CLIENT_ID: provider.clientId,
        KILN_OIDC_CORP_CLIENT_SECRET: provider.clientSecret,
      },
    });
    const signIn = async (login: string) => {
      const browser = sso.client();
      const start = await browser.get("/api/auth/oidc/corp/start");
      const callback = await throughProvider(String(start.headers.location), login, PUBLIC);
      return (await browser.get(callback)).headers.location;
    };
    try {
      const newcomer = uniqueEmail("newcomer");
      provider.accounts.set("newcomer", { email: newcomer, email_verified: true });
      provider.accounts.set("known", { email: someone.user.email, email_verified: true });
      await setPolicy({ mode: "closed" });
      expect(await signIn("newcomer")).toBe("/login?sso_error=signup_closed");
      expect(
        (await admin.client.get(`/api/admin/users?q=${encodeURIComponent(newcomer)}`)).json().total,
      ).toBe(0);
      // An existing account still signs in through the provider.
      expect(await signIn("known")).toBe("/");
      await setPolicy({ mode: "open" });
      expect(await signIn("newcomer")).toBe("/");
    } finally {
      await setPolicy({ mode: "open" });
      await sso.stop();
      await provider.close();
    }
  });

  it("shows the instance's counts and worker fleet", async () => {
    const overview = (await admin.client.get("/api/admin/overview")).json();
    expect(overview).toEqual({
      users: expect.any(Number),
      suspendedUsers: expect.any(Number),
      orgs: expect.any(Number),
      workersOnline: expect.any(Number),
      jobsQueued: expect.any(Number),
      jobsRunning: expect.any(Number),
      workers: expect.any(Array),
    });
    expect(overview.users).toBeGreaterThanOrEqual(3);
    expect(overview.orgs).toBeGreaterThanOrEqual(overview.users);
  });
});
