import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestClient } from "../../testing/client.ts";
import { type FakeGithub, startFakeGithub } from "../../testing/github-oauth.ts";
import { startTestKiln, type TestKiln, uniqueEmail } from "../../testing/harness.ts";

/**
 * "Continue with GitHub": GitHub's OAuth app flow against a strict fake of its endpoints — the account is
 * read from its API (primary verified address), the flow carries state and PKCE, and a forged state, a
 * replayed code or an address GitHub has not verified sign nobody in.
 */

const PUBLIC = "http://localhost:4002";
let github: FakeGithub;
let kiln: TestKiln;

beforeAll(async () => {
  github = await startFakeGithub(`${PUBLIC}/api/auth/oidc/github/callback`);
  kiln = await startTestKiln({
    env: {
      KILN_PUBLIC_URL: PUBLIC,
      KILN_GITHUB_CLIENT_ID: github.clientId,
      KILN_GITHUB_CLIENT_SECRET: github.clientSecret,
      KILN_GITHUB_URL: github.url,
      KILN_GITHUB_API_URL: github.apiUrl,
    },
  });
}, 120_000);

afterAll(async () => {
  await kiln?.stop();
  await github?.close();
});

/** Start → GitHub's authorize page → "Authorize" as `login` → the callback path (not yet visited). */
async function authorize(client: TestClient, login: string): Promise<string> {
  const start = await client.get("/api/auth/oidc/github/start");
  expect(start.statusCode, start.body).toBe(302);
  const page = String(start.headers.location);
  expect((await fetch(page)).status).toBe(200);
  const res = await fetch(page, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ login }).toString(),
  });
  expect(res.status, await res.clone().text()).toBe(302);
  return String(res.headers.get("location")).slice(PUBLIC.length);
}

describe("sign-in with GitHub", () => {
  it("makes an account from GitHub's primary verified address, and joins a verified account", async () => {
    const config = (await kiln.client().get("/api/config")).json();
    expect(config.signInProviders).toEqual([{ id: "github", name: "GitHub" }]);

    const email = uniqueEmail("octo");
    github.users.set("octocat", {
      id: 583231,
      login: "octocat",
      name: null,
      emails: [
        { email: uniqueEmail("unverified"), primary: false, verified: false },
        { email, primary: true, verified: true },
      ],
    });
    const browser = kiln.client();
    const done = await browser.get(await authorize(browser, "octocat"));
    expect([done.statusCode, done.headers.location]).toEqual([302, "/"]);
    const me = (await browser.get("/api/auth/me")).json();
    expect(me.user).toMatchObject({ email, name: "octocat", emailVerified: true });
    // The token request carried the PKCE verifier and the registered redirect URI.
    const sent = github.tokenRequests.at(-1)!;
    expect(sent.get("code_verifier")).toMatch(/^[\w-]{43,}$/);
    expect(sent.get("redirect_uri")).toBe(`${PUBLIC}/api/auth/oidc/github/callback`);

    const owner = await kiln.signup();
    github.users.set("owner-gh", {
      id: 1001,
      login: "owner-gh",
      name: "Owner",
      emails: [{ email: owner.user.email, primary: true, verified: true }],
    });
    const again = kiln.client();
    await again.get(await authorize(again, "owner-gh"));
    expect((await again.get("/api/auth/me")).json().user.id).toBe(owner.user.id);
  });

  it("refuses a forged state, a replayed code and an address GitHub has not verified", async () => {
    github.users.set("mallory", {
      id: 666,
      login: "mallory",
      name: "Mallory",
      emails: [{ email: uniqueEmail("mallory"), primary: true, verified: true }],
    });
    const forged = kiln.client();
    const path = new URL(await authorize(forged, "mallory"), PUBLIC);
    path.searchParams.set("state", "forged");
    expect((await forged.get(path.pathname + path.search)).headers.location).toBe(
      "/login?sso_error=rejected",
    );
    expect((await forged.get("/api/auth/me")).statusCode).toBe(401);

    const first = kiln.client();
    const callback = await authorize(first, "mallory");
    const copy = kiln.client();
    for (const [k, v] of first.cookies) copy.cookies.set(k, v);
    expect((await first.get(callback)).headers.location).toBe("/");
    expect((await copy.get(callback)).headers.location).toBe("/login?sso_error=rejected");

    github.users.set("unsure", {
      id: 777,
      login: "unsure",
      name: null,
      emails: [{ email: uniqueEmail("unsure"), primary: true, verified: false }],
    });
    const unsure = kiln.client();
    expect((await unsure.get(await authorize(unsure, "unsure"))).headers.location).toBe(
      "/login?sso_error=unverified_email",
    );
  });
});
