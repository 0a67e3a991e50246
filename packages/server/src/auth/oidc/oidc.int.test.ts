import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestClient } from "../../testing/client.ts";
import { startTestKiln, type TestKiln, uniqueEmail } from "../../testing/harness.ts";
import { startOidcProvider, type TestOidcProvider, throughProvider } from "../../testing/oidc-provider.ts";
import { FlowCookie } from "./flow.ts";

/**
 * Sign-in with an OpenID Connect provider, against a real one (`oidc-provider`): the whole redirect dance
 * through Kiln's start and callback routes, accounts made and linked by verified address only, linking and
 * unlinking, and the attacks the flow exists to stop — a forged state, no flow in this browser, a replayed
 * code, a code from another flow, an expired flow — each refused with a reason and no session.
 */

const PUBLIC = "http://localhost:4000";
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
      KILN_OIDC_CORP_NAME: "Corp SSO",
    },
  });
}, 120_000);

afterAll(async () => {
  await kiln?.stop();
  await provider?.close();
});

const atProvider = (authorizeUrl: string, login: string) => throughProvider(authorizeUrl, login, PUBLIC);

/** Starts sign-in in `client`, signs in at the provider, and answers the callback path (not yet visited). */
async function startAndSignIn(client: TestClient, login: string, next = "/welcome"): Promise<string> {
  const start = await client.get(`/api/auth/oidc/corp/start?next=${encodeURIComponent(next)}`);
  expect(start.statusCode, start.body).toBe(302);
  return atProvider(String(start.headers.location), login);
}

async function signIn(client: TestClient, login: string, next?: string) {
  const callback = await startAndSignIn(client, login, next);
  return client.get(callback);
}

const location = (res: { headers: Record<string, unknown> }) => String(res.headers.location);

describe("sign-in with an OpenID Connect provider", () => {
  it("lists the provider; a first sign-in makes a verified account and lands where it was going", async () => {
    const config = (await kiln.client().get("/api/config")).json();
    expect(config.signInProviders).toEqual([{ id: "corp", name: "Corp SSO" }]);

    const email = uniqueEmail("sso");
    provider.accounts.set("newbie", { email, email_verified: true, name: "Nina Newbie" });
    const browser = kiln.client();
    const done = await signIn(browser, "newbie", "/some/page");
    expect([done.statusCode, location(done)]).toEqual([302, "/some/page"]);
    const me = (await browser.get("/api/auth/me")).json();
    expect(me.user).toMatchObject({ email, name: "Nina Newbie", emailVerified: true });
    expect(me.orgs.some((o: { personal: boolean }) => o.personal)).toBe(true);
    const methods = (await browser.get("/api/auth/identities")).json();
    expect(methods).toMatchObject({
      password: false,
      identities: [{ provider: "corp", providerName: "Corp SSO", email }],
    });

    // The same person again: the same account.
    const again = kiln.client();
    expect(location(await signIn(again, "newbie"))).toBe("/welcome");
    expect((await again.get("/api/auth/me")).json().user.id).toBe(me.user.id);
    // An SSO-only account cannot drop its only way in.
    const unlink = await browser.delete("/api/auth/identities/corp");
    expect([unlink.statusCode, unlink.json().error.code]).toEqual([409, "last_sign_in_method"]);
  });

  it("joins the verified Kiln account with the provider's verified address, which keeps its password", async () => {
    const owner = await kiln.signup();
    provider.accounts.set("owner-at-corp", { email: owner.user.email.toUpperCase(), email_verified: true });
    const browser = kiln.client();
    expect(location(await signIn(browser, "owner-at-corp"))).toBe("/welcome");
    expect((await browser.get("/api/auth/me")).json().user.id).toBe(owner.user.id);
    const methods = (await owner.client.get("/api/auth/identities")).json();
    expect(methods.password).toBe(true);
    expect(methods.identities.map((i: { provider: string }) => i.provider)).toEqual(["corp"]);
    const unlinked = await owner.client.delete("/api/auth/identities/corp");
    expect([unlinked.statusCode, unlinked.json().identities]).toEqual([200, []]);
  });

  it("never takes an address the provider has not verified", async () => {
    const owner = await kiln.signup();
    provider.accounts.set("claims-owner", { email: owner.user.email, email_verified: false });
    const browser = kiln.client();
    const res = await signIn(browser, "claims-owner");
    expect(location(res)).toBe("/login?sso_error=unverified_email");
    expect((await browser.get("/api/auth/me")).statusCode).toBe(401);
  });

  it("links a provider to a signed-in account, and refuses an identity another account holds", async () => {
    const user = await kiln.signup();
    provider.accounts.set("linker", { email: uniqueEmail("elsewhere"), email_verified: true });
    const started = await user.client.post("/api/auth/oidc/corp/link");
    expect(started.statusCode, started.body).toBe(200);
    const callback = await atProvider(started.json().url, "linker");
    expect(location(await user.client.get(callback))).toBe("/account?sso_linked=1");
    expect((await user.client.get("/api/auth/identities")).json().identities).toHaveLength(1);
    // Signing in there now opens this account.
    const browser = kiln.client();
    await signIn(browser, "linker");
    expect((await browser.get("/api/auth/me")).json().user.id).toBe(user.user.id);

    const other = await kiln.signup();
    const theirs = await other.client.post("/api/auth/oidc/corp/link");
    const back = await atProvider(theirs.json().url, "linker");
    expect(location(await other.client.get(back))).toBe("/account?sso_error=identity_taken");
    expect((await other.client.get("/api/auth/identities")).json().identities).toEqual([]);
  });

  it("refuses a forged state, a callback without this browser's flow, a replayed code and another flow's code", async () => {
    provider.accounts.set("target", { email: uniqueEmail("target"), email_verified: true });

    // A forged state: the answer is not to the request this browser made.
    const forged = kiln.client();
    const cb = new URL(await startAndSignIn(forged, "target"), PUBLIC);
    cb.searchParams.set("state", "forged-state");
    expect(location(await forged.get(cb.pathname + cb.search))).toBe("/login?sso_error=rejected");
    expect((await forged.get("/api/auth/me")).statusCode).toBe(401);

    // Another browser (no flow cookie) brings a valid callback: nothing to check it against.
    const victimPath = await startAndSignIn(kiln.client(), "target");
    const stranger = kiln.client();
    expect(location(await stranger.get(victimPath))).toBe("/login?sso_error=expired");
    expect((await stranger.get("/api/auth/me")).statusCode).toBe(401);

    // A replayed code: the same callback twice, with the same flow.
    const first = kiln.client();
    const path = await startAndSignIn(first, "target");
    const copy = kiln.client();
    for (const [k, v] of first.cookies) copy.cookies.set(k, v);
    expect(location(await first.get(path))).toBe("/welcome");
    expect(location(await copy.get(path))).toBe("/login?sso_error=rejected");
    expect((await copy.get("/api/auth/me")).statusCode).toBe(401);

    // A code from another flow (another PKCE verifier and nonce) with this flow's state.
    const a = kiln.client();
    const codeOfA = new URL(await startAndSignIn(a, "target"), PUBLIC).searchParams.get("code")!;
    const b = kiln.client();
    const pathB = new URL(await startAndSignIn(b, "target"), PUBLIC);
    pathB.searchParams.set("code", codeOfA);
    expect(location(await b.get(pathB.pathname + pathB.search))).toBe("/login?sso_error=rejected");
    expect((await b.get("/api/auth/me")).statusCode).toBe(401);
  });

  it("refuses an expired flow and a tampered one, and a provider's own refusal", async () => {
    const cookie = new FlowCookie(kiln.secrets, false);
    const browser = kiln.client();
    const path = await startAndSignIn(browser, "late");
    const sealed = browser.cookies.get(cookie.name)!.value;
    const flow = cookie.read(sealed)!;
    const expired = kiln.client();
    expired.cookies.set(cookie.name, {
      value: kiln.secrets.encrypt(JSON.stringify({ ...flow, expiresAt: Date.now() - 1 }), "oidc-flow"),
      path: "/api/auth/oidc",
    });
    expect(location(await expired.get(path))).toBe("/login?sso_error=expired");
    const tampered = kiln.client();
    tampered.cookies.set(cookie.name, { value: `${sealed.slice(0, -4)}AAAA`, path: "/api/auth/oidc" });
    expect(location(await tampered.get(path))).toBe("/login?sso_error=expired");

    const denied = kiln.client();
    const start = await denied.get("/api/auth/oidc/corp/start");
    const state = new URL(String(start.headers.location)).searchParams.get("state");
    const res = await denied.get(`/api/auth/oidc/corp/callback?error=access_denied&state=${state}`);
    expect(location(res)).toBe("/login?sso_error=denied");
  });

  it("goes only to a path of the studio, and names an unknown provider", async () => {
    for (const next of [
      "//evil.example/x",
      "https://evil.example/",
      "/\\evil.example",
      "javascript:alert(1)",
    ]) {
      const browser = kiln.client();
      expect(location(await signIn(browser, "wanderer", next))).toBe("/");
    }
    const unknown = await kiln.client().get("/api/auth/oidc/nope/start");
    expect([unknown.statusCode, unknown.json().error.code]).toEqual([404, "sign_in_provider_not_found"]);
    const bad = await kiln.client().get("/api/auth/oidc/NOT_AN_ID/start");
    expect([bad.statusCode, bad.json().error.code]).toEqual([400, "validation_failed"]);
    const huge = await kiln.client().get(`/api/auth/oidc/corp/callback?code=${"x".repeat(5000)}`);
    expect([huge.statusCode, huge.json().error.code]).toEqual([400, "validation_failed"]);
    const anon = await kiln.client().post("/api/auth/oidc/corp/link");
    expect(anon.statusCode).toBe(401);
  });
});
