/**
 * Single sign-on in Chromium against a real OpenID Connect provider (`oidc-provider`): a newcomer clicks
 * "Continue with Corp SSO" on the log-in page, signs in on the provider's page and lands in the studio with
 * a new account; a password user links the provider from the account page and then signs in with it; a
 * provider that does not vouch for the address gets a plain reason on the log-in page; an org bound to the
 * provider's (DNS-proven) domain gets a newcomer as a member with the role their group maps to, and their
 * access ends at the next refresh once the provider removes them; a member from that domain signed in with a
 * password is shown "<Org> signs in through <provider>" (when opening the org, and mid-visit once it gets
 * bound), signs in there and lands back on the page they opened. Screenshots (desktop and phone width) go to
 * e2e/screenshots/.
 */
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type DnsServer, startDnsServer } from "../packages/server/src/testing/dns-server.ts";
import { freePort } from "../packages/server/src/testing/free-port.ts";
import {
  startTestKiln,
  type TestKiln,
  uniqueEmail,
  uniqueSlug,
} from "../packages/server/src/testing/harness.ts";
import { startOidcProvider, type TestOidcProvider } from "../packages/server/src/testing/oidc-provider.ts";
import { type Browser, launchChromium } from "./chromium.ts";

const SCREENSHOTS = path.join(path.dirname(fileURLToPath(import.meta.url)), "screenshots");

let kiln: TestKiln;
let provider: TestOidcProvider;
let dns: DnsServer;
let desktop: Browser;
let phone: Browser;
let base: string;

beforeAll(async () => {
  const port = await freePort();
  base = `http://localhost:${port}`;
  provider = await startOidcProvider({ redirectUris: [`${base}/api/auth/oidc/corp/callback`] });
  dns = await startDnsServer();
  [kiln, desktop, phone] = await Promise.all([
    startTestKiln({
      env: {
        KILN_PUBLIC_URL: base,
        KILN_DNS_SERVERS: dns.server,
        KILN_OIDC_PROVIDERS: "corp",
        KILN_OIDC_CORP_ISSUER: provider.issuer,
        KILN_OIDC_CORP_CLIENT_ID: provider.clientId,
        KILN_OIDC_CORP_CLIENT_SECRET: provider.clientSecret,
        KILN_OIDC_CORP_NAME: "Corp SSO",
      },
    }),
    launchChromium({ viewport: { width: 1280, height: 800 } }),
    launchChromium({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true }),
  ]);
  await kiln.app.listen({ port, host: "127.0.0.1" });
  await mkdir(SCREENSHOTS, { recursive: true });
}, 120_000);

afterAll(async () => {
  await Promise.all([desktop?.close(), phone?.close()]);
  await kiln?.stop();
  await provider?.close();
  await dns?.stop();
});

const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`) });

/** On the provider's own page. */
async function signInAtProvider(page: Page, username: string): Promise<void> {
  await page.getByRole("heading", { name: "Test provider" }).waitFor();
  await page.getByLabel("Username").fill(username);
  await page.getByRole("button", { name: "Sign in" }).click();
}

it("a newcomer signs in with the provider and gets an account; a refused address is explained", async () => {
  const email = uniqueEmail("newcomer");
  provider.accounts.set("nora", { email, email_verified: true, name: "Nora Newcomer" });
  const page = await phone.context.newPage();
  await page.goto(`${base}/login`);
  await page.getByRole("link", { name: "Continue with Corp SSO" }).waitFor();
  await shot(page, "sso-login-phone");
  await page.getByRole("link", { name: "Continue with Corp SSO" }).click();
  await signInAtProvider(page, "nora");
  await page.getByRole("heading", { name: "Projects" }).waitFor({ timeout: 20_000 });
  const me = await page.evaluate("fetch('/api/auth/me').then((r) => r.json())");
  expect((me as { user: { email: string; emailVerified: boolean } }).user).toMatchObject({
    email,
    emailVerified: true,
  });

  // A provider that does not vouch for the address: no account, and the log-in page says why.
  provider.accounts.set("sly", { email: uniqueEmail("sly"), email_verified: false });
  await phone.context.clearCookies();
  await page.goto(`${base}/login`);
  await page.getByRole("link", { name: "Continue with Corp SSO" }).click();
  await signInAtProvider(page, "sly");
  await page.getByText("The provider did not confirm your email address").waitFor({ timeout: 20_000 });
  await shot(page, "sso-refused-phone");
  await page.close();
});

it("a password user links the provider on the account page, then signs in with it", async () => {
  const user = await kiln.signup({ name: "Lena Linker" });
  provider.accounts.set("lena-at-corp", { email: uniqueEmail("lena-corp"), email_verified: true });
  const page = await desktop.context.newPage();
  await page.goto(`${base}/login`);
  await page.getByLabel("Email").fill(user.user.email);
  await page.getByLabel("Password").fill(user.password);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("heading", { name: "Projects" }).waitFor();
  await page.goto(`${base}/account`);
  await page.getByRole("button", { name: "Link Corp SSO" }).click();
  await signInAtProvider(page, "lena-at-corp");
  await page.getByText("Linked: you can now sign in with it.").waitFor({ timeout: 20_000 });
  const methods = page.getByRole("list", { name: "Sign-in methods" });
  await methods.getByText("Corp SSO").waitFor();
  await methods.scrollIntoViewIfNeeded();
  await shot(page, "sso-account-linked");

  // Signed out, the provider's button now opens this account.
  await desktop.context.clearCookies();
  await page.goto(`${base}/login`);
  await page.getByRole("link", { name: "Continue with Corp SSO" }).click();
  await signInAtProvider(page, "lena-at-corp");
  await page.getByRole("heading", { name: "Projects" }).waitFor({ timeout: 20_000 });
  const me = (await page.evaluate("fetch('/api/auth/me').then((r) => r.json())")) as { user: { id: string } };
  expect(me.user.id).toBe(user.user.id);
  await page.close();
});

it("an org bound to the provider's domain gets the newcomer with the mapped role, until the provider drops them", async () => {
  const admin = await kiln.signup({ name: "Ada Admin" });
  const org = uniqueSlug("globex");
  expect((await admin.client.post("/api/orgs", { name: "Globex", slug: org })).statusCode).toBe(201);
  // The admin binds the org in its settings, and proves the domain with the TXT record shown.
  await desktop.context.clearCookies();
  const settings = await desktop.context.newPage();
  await settings.goto(`${base}/login`);
  await settings.getByLabel("Email").fill(admin.user.email);
  await settings.getByLabel("Password").fill(admin.password);
  await settings.getByRole("button", { name: "Log in" }).click();
  await settings.getByRole("heading", { name: "Projects" }).waitFor();
  await settings.goto(`${base}/${org}/settings?tab=sso`);
  await settings.getByLabel("Email domains").fill("globex-kiln-test.com");
  await settings.getByLabel("Role for newcomers").selectOption("viewer");
  await settings.getByLabel("Groups to roles").fill("engineering=developer");
  await settings.getByRole("button", { name: "Save" }).click();
  const record = settings.getByRole("list", { name: "Single sign-on domains" }).locator("code");
  const text = (await record.textContent()) ?? "";
  const token = /"(kiln-sso=[0-9a-f]+)"/.exec(text)?.[1];
  expect(token, text).toBeTruthy();
  await dns.setTxt({ "_kiln-challenge.globex-kiln-test.com": [token!] });
  await settings.getByRole("button", { name: "Check DNS records" }).click();
  await settings.getByText("proven", { exact: true }).waitFor();
  await shot(settings, "sso-org-settings");
  await settings.close();

  provider.accounts.set("gina", {
    email: "gina@globex-kiln-test.com",
    name: "Gina Globex",
    groups: ["engineering"],
  });
  await desktop.context.clearCookies();
  const page = await desktop.context.newPage();
  await page.goto(`${base}/login`);
  await page.getByRole("link", { name: "Continue with Corp SSO" }).click();
  await signInAtProvider(page, "gina");
  await page.getByRole("heading", { name: "Projects" }).waitFor({ timeout: 20_000 });
  await page.goto(`${base}/${org}/settings?tab=members`);
  await page.getByText("Gina Globex").waitFor();
  const me = (await page.evaluate("fetch('/api/auth/me').then((r) => r.json())")) as {
    orgs: Array<{ slug: string; role: string }>;
  };
  expect(me.orgs.find((o) => o.slug === org)?.role).toBe("developer");
  await shot(page, "sso-org-member");

  // Removed at the provider: when the access token next needs refreshing, the session is over.
  provider.accounts.set("gina", { removed: true });
  await desktop.context.clearCookies({ name: "kiln_at" });
  await page.goto(`${base}/${org}`);
  await page.waitForURL(/\/login/, { timeout: 20_000 });
  const members = (await admin.client.get(`/api/orgs/${org}/members`)).json();
  expect(members.map((m: { name: string }) => m.name)).not.toContain("Gina Globex");
  await page.close();
});

it("a bound-domain member signed in with a password is shown the org's provider, signs in through it and lands back in the org", async () => {
  const boss = await kiln.signup({ name: "Bo Boss" });
  const org = uniqueSlug("initech");
  expect((await boss.client.post("/api/orgs", { name: "Initech", slug: org })).statusCode).toBe(201);
  const pat = await kiln.signup({ name: "Pat Initech", email: `pat-${uniqueSlug()}@initech-kiln-test.com` });
  const invited = await boss.client.post(`/api/orgs/${org}/invitations`, {
    email: pat.user.email,
    role: "developer",
  });
  const token = new URL(invited.json().url).pathname.split("/").pop();
  expect((await pat.client.post(`/api/invitations/${token}/accept`)).statusCode).toBe(200);

  const logIn = async (browser: Browser) => {
    await browser.context.clearCookies();
    const page = await browser.context.newPage();
    await page.goto(`${base}/login`);
    await page.getByLabel("Email").fill(pat.user.email);
    await page.getByLabel("Password").fill(pat.password);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.getByRole("heading", { name: "Projects" }).waitFor();
    return page;
  };
  const title = { name: "Initech signs in through Corp SSO" };

  // Pat is in the org when it gets bound: the next read of it shows the way in instead of the page.
  const page = await logIn(desktop);
  await page.goto(`${base}/${org}/settings?tab=members`);
  await page.getByText("Bo Boss").waitFor();
  const bound = await boss.client.put(`/api/orgs/${org}/sso`, {
    provider: "corp",
    domains: ["initech-kiln-test.com"],
  });
  await dns.setTxt({ "_kiln-challenge.initech-kiln-test.com": [bound.json().domains[0].token] });
  expect((await boss.client.post(`/api/orgs/${org}/sso/verify`)).json().domains[0].verified).toBe(true);
  await page.getByRole("link", { name: "Projects", exact: true }).click();
  await page.getByRole("heading", title).waitFor();

  // On a phone, the org's page is the way in, and the user's own workspace is one tap away.
  const small = await logIn(phone);
  await small.goto(`${base}/${org}/settings?tab=members`);
  await small.getByRole("heading", title).waitFor();
  await shot(small, "sso-required-phone");
  const others = small.getByRole("navigation", { name: "Your other workspaces" });
  const links = await others.getByRole("link").allTextContents();
  expect(links, links.join()).toHaveLength(1);
  expect(links[0]).toMatch(/\(personal\)$/);
  await others.getByRole("link").click();
  await small.getByRole("heading", { name: "Projects" }).waitFor();
  expect(new URL(small.url()).pathname).not.toBe(`/${org}`);
  await small.close();

  // A page of the org opened afresh is where the provider's sign-in returns to.
  await page.goto(`${base}/${org}/settings?tab=members`);
  await page.getByRole("heading", title).waitFor();
  await shot(page, "sso-required");
  const refused = (await page.evaluate(
    `fetch('/api/orgs/${org}/projects').then(async (r) => [r.status, (await r.json()).error.code])`,
  )) as [number, string];
  expect(refused).toEqual([403, "sso_required"]);

  provider.accounts.set("pat", { email: pat.user.email, email_verified: true, name: "Pat Initech" });
  await page.getByRole("link", { name: "Sign in with Corp SSO" }).click();
  await signInAtProvider(page, "pat");
  await page.waitForURL(`${base}/${org}/settings?tab=members`, { timeout: 20_000 });
  await page.getByText("Bo Boss").waitFor();
  expect(await page.getByRole("heading", title).count()).toBe(0);
  const opened = await page.evaluate(`fetch('/api/orgs/${org}/projects').then((r) => r.status)`);
  expect(opened).toBe(200);
  await shot(page, "sso-required-after");
  await page.close();
});
