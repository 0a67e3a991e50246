/**
 * The account page: a user signed in on two browsers renames themself (the header follows), creates and
 * revokes a personal API token, signs the other browser out ("Sign out other sessions": its next request
 * is refused and it lands on the log-in page), and changes the password (the old one stops working, the
 * new one signs in). Deleting the account is refused while it is the last owner of an org with other
 * members, then done once someone else owns it. Screenshots: e2e/screenshots/account*.png.
 */
import { mkdir } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, expect, it, onTestFailed } from "vitest";
import { freePort } from "../packages/server/src/testing/free-port.ts";
import { startTestKiln, type TestKiln } from "../packages/server/src/testing/harness.ts";
import { type Browser, launchChromium } from "./chromium.ts";

const SCREENSHOTS = path.join(path.dirname(fileURLToPath(import.meta.url)), "screenshots");
const PASSWORD = "correct horse battery";
const NEW_PASSWORD = "a kiln of one's own";

let kiln: TestKiln;
let laptop: Browser;
let phone: Browser;
let base: string;

beforeAll(async () => {
  const port = await freePort();
  base = `http://localhost:${port}`;
  [kiln, laptop, phone] = await Promise.all([
    startTestKiln({ env: { KILN_PUBLIC_URL: base } }),
    launchChromium({ viewport: { width: 1280, height: 900 } }),
    launchChromium({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true }),
  ]);
  await kiln.app.listen({ port, host: "127.0.0.1" });
  await mkdir(SCREENSHOTS, { recursive: true });
}, 180_000);

afterAll(async () => {
  await phone?.close();
  await laptop?.close();
  await kiln?.stop();
});

async function newPage(browser: Browser): Promise<Page> {
  const page = await browser.context.newPage();
  onTestFailed(async () => {
    const file = path.join(os.tmpdir(), `kiln-account-e2e-failure-${Date.now()}.png`);
    await page.screenshot({ path: file, fullPage: true }).catch(() => {});
    process.stdout.write(`[e2e] screenshot at the failure: ${file}\n`);
  });
  return page;
}

async function logIn(page: Page, email: string, password: string): Promise<void> {
  await page.goto(`${base}/login`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
}

/** What the page's own session gets from the API, as the studio would ask. */
const meStatus = (page: Page) =>
  page.evaluate<number>("fetch('/api/auth/me', { credentials: 'same-origin' }).then((r) => r.status)");

it("renames, manages tokens, signs out the other browser and changes the password", async () => {
  const { user } = await kiln.signup({ name: "Ada Account", password: PASSWORD });
  const page = await newPage(laptop);
  const other = await newPage(phone);
  const errors: string[] = [];
  page.on("pageerror", (err) => errors.push(err.message));

  await logIn(page, user.email, PASSWORD);
  await page.getByRole("heading", { name: "Projects" }).waitFor();
  await logIn(other, user.email, PASSWORD);
  await other.getByRole("heading", { name: "Projects" }).waitFor();

  // The user menu leads to the account page.
  const avatar = page.getByRole("button", { name: "Account menu" });
  await expect.poll(() => avatar.textContent()).toBe("AA");
  await avatar.click();
  await page.getByRole("menuitem", { name: "Account", exact: true }).click();
  await page.waitForURL(`${base}/account`);
  await page.getByRole("heading", { name: "Account", exact: true }).waitFor();

  // Three sessions: this one (marked), the phone, and the sign-up made through the API.
  const sessions = page.getByRole("list", { name: "Sessions" });
  await expect.poll(() => sessions.getByRole("listitem").count()).toBe(3);
  await sessions.getByText("This device").waitFor();

  // Rename: the header's avatar follows.
  await page.getByLabel("Name", { exact: true }).fill("Grace Hopper");
  await page.getByRole("button", { name: "Save profile" }).click();
  await expect.poll(() => avatar.textContent()).toBe("GH");
  expect(await avatar.getAttribute("title")).toContain("Grace Hopper");
  expect(
    (await kiln.client().post("/api/auth/login", { email: user.email, password: PASSWORD })).json().user.name,
  ).toBe("Grace Hopper");

  // A personal token: created, its secret shown once, listed.
  await page.getByLabel("Token name").fill("deploy script");
  await page.getByRole("button", { name: "Create token" }).click();
  await page.getByText("Copy it now").waitFor();
  await page.getByText("deploy script").waitFor();
  const secret = (await page.locator("code", { hasText: "kiln_pat_" }).first().textContent())!.trim();
  const viaToken = kiln.client();
  viaToken.bearer = secret;
  expect((await viaToken.get("/api/auth/me")).statusCode).toBe(200);
  // From the top, so the sticky header is drawn where it belongs in the full-page image.
  await page.evaluate("window.scrollTo(0, 0)");
  await page.screenshot({ path: path.join(SCREENSHOTS, "account.png"), fullPage: true });

  // Revoked: gone from the list and refused by the API.
  page.once("dialog", (dialog) => void dialog.accept());
  await page.getByRole("button", { name: "Revoke" }).click();
  await page.getByText("No API tokens").waitFor();
  expect((await viaToken.get("/api/auth/me")).statusCode).toBe(401);

  // Sign out other sessions: the phone's next request is refused and it lands on the log-in page.
  expect(await meStatus(other)).toBe(200);
  await page.getByRole("button", { name: "Sign out other sessions" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Sign out others" }).click();
  await expect.poll(() => sessions.getByRole("listitem").count()).toBe(1);
  expect(await meStatus(other)).toBe(401);
  await other.reload();
  await other.waitForURL(/\/login/);
  expect(await meStatus(page)).toBe(200);

  // Change the password; the old one no longer signs in, the new one does.
  await page.getByLabel("Current password", { exact: true }).fill(PASSWORD);
  await page.getByLabel("New password", { exact: true }).fill(NEW_PASSWORD);
  await page.getByLabel("Repeat the new password").fill(NEW_PASSWORD);
  await page.getByRole("button", { name: "Change password" }).click();
  await page.getByText("Password changed").waitFor();
  expect(await meStatus(page)).toBe(200);

  await logIn(other, user.email, PASSWORD);
  await other.getByText("Wrong email or password.").waitFor();
  expect(new URL(other.url()).pathname).toBe("/login");
  await other.getByLabel("Password").fill(NEW_PASSWORD);
  await other.getByRole("button", { name: "Log in" }).click();
  await other.getByRole("heading", { name: "Projects" }).waitFor();
  expect(await meStatus(other)).toBe(200);

  // The phone's account page: its own session is "This device", the laptop's is listed too.
  await other.goto(`${base}/account`);
  await other.getByRole("list", { name: "Sessions" }).getByText("This device").waitFor();
  await expect
    .poll(() => other.getByRole("list", { name: "Sessions" }).getByRole("listitem").count())
    .toBe(2);
  await other.screenshot({ path: path.join(SCREENSHOTS, "account-phone.png"), fullPage: true });

  expect(errors).toEqual([]);
}, 240_000);

it("deletes the account only once its last-owner org has another owner, then signs out", async () => {
  const ada = await kiln.signup({ name: "Ada Leaving", password: PASSWORD });
  const bob = await kiln.signup({ name: "Bob Staying" });
  const slug = `team-${Date.now().toString(36)}`;
  expect((await ada.client.post("/api/orgs", { name: "Glaze Team", slug })).statusCode).toBe(201);
  const invited = await ada.client.post(`/api/orgs/${slug}/invitations`, {
    email: bob.user.email,
    role: "developer",
  });
  const token = new URL(invited.json().url).pathname.split("/").pop();
  expect((await bob.client.post(`/api/invitations/${token}/accept`)).statusCode).toBe(200);

  await phone.context.clearCookies(); // the user of the test before is signed out
  const page = await newPage(phone);
  await logIn(page, ada.user.email, PASSWORD);
  await page.getByRole("heading", { name: "Projects" }).waitFor();
  await page.goto(`${base}/account`);
  await page.getByRole("button", { name: "Delete account…" }).click();
  const dialog = page.getByRole("dialog", { name: "Delete your account?" });
  // Ada is Glaze Team's last owner and Bob is a member: the dialog says so instead of asking.
  await dialog.getByRole("link", { name: "Glaze Team" }).waitFor();
  await page.screenshot({ path: path.join(SCREENSHOTS, "account-delete-blocked-phone.png") });
  await dialog.getByRole("button", { name: "Close" }).click();

  const promoted = await ada.client.patch(`/api/orgs/${slug}/members/${bob.user.id}`, { role: "owner" });
  expect(promoted.statusCode).toBe(200);
  await page.getByRole("button", { name: "Delete account…" }).click();
  await dialog.getByText("You leave, and they stay with their other members:").waitFor();
  await dialog.getByText("Glaze Team").waitFor();
  await dialog.getByLabel("Your password").fill("not my password");
  await dialog.getByRole("button", { name: "Delete my account" }).click();
  await dialog.getByText("That is not your password.").waitFor();
  await dialog.getByLabel("Your password").fill(PASSWORD);
  await page.screenshot({ path: path.join(SCREENSHOTS, "account-delete-phone.png") });
  await dialog.getByRole("button", { name: "Delete my account" }).click();
  await page.waitForURL(`${base}/login`);

  await logIn(page, ada.user.email, PASSWORD);
  await page.getByText("Wrong email or password.").waitFor();
  const members = (await bob.client.get(`/api/orgs/${slug}/members`)).json();
  expect(members.map((m: { userId: string }) => m.userId)).toEqual([bob.user.id]);
}, 120_000);
