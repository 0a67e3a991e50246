/**
 * Email verification in the studio: an invitee signs up from the invitation link, lands on "check your
 * email", skips it, is told by the invitation page to verify first, enters the mailed code and joins.
 * Another user skips verification, sees the banner, and confirms through the mailed link in a fresh
 * browser context. Screenshots (desktop and phone width) go to e2e/screenshots/.
 */
import { mkdir } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, expect, it, onTestFailed } from "vitest";
import { freePort } from "../packages/server/src/testing/free-port.ts";
import {
  startTestKiln,
  type TestKiln,
  uniqueEmail,
  uniqueSlug,
} from "../packages/server/src/testing/harness.ts";
import { type Browser, launchChromium } from "./chromium.ts";

const SCREENSHOTS = path.join(path.dirname(fileURLToPath(import.meta.url)), "screenshots");
const PASSWORD = "correct horse battery";
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 800 };

let kiln: TestKiln;
let browser: Browser;
let base: string;

beforeAll(async () => {
  const port = await freePort();
  base = `http://localhost:${port}`;
  [kiln, browser] = await Promise.all([startTestKiln({ env: { KILN_PUBLIC_URL: base } }), launchChromium()]);
  await kiln.app.listen({ port, host: "127.0.0.1" });
  await mkdir(SCREENSHOTS, { recursive: true });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await kiln?.stop();
});

const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`) });

async function newPage(): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.context.newPage();
  await page.setViewportSize(DESKTOP);
  onTestFailed(async () => {
    const file = path.join(os.tmpdir(), `kiln-email-e2e-failure-${Date.now()}.png`);
    await page.screenshot({ path: file }).catch(() => {});
    process.stdout.write(`[e2e] screenshot at the failure: ${file}\n`);
  });
  const errors: string[] = [];
  page.on("pageerror", (err) => errors.push(err.message));
  return { page, errors };
}

async function fillSignup(page: Page, name: string, email: string): Promise<void> {
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await page.getByRole("heading", { name: "Check your email" }).waitFor();
}

it("an invitee signs up from the link, is asked to verify before joining, enters the code and joins", async () => {
  const owner = await kiln.signup({ name: "Olga Owner" });
  const slug = uniqueSlug("team");
  expect((await owner.client.post("/api/orgs", { name: "Glaze Team", slug })).statusCode).toBe(201);
  const bob = uniqueEmail("bob");
  const invited = await owner.client.post(`/api/orgs/${slug}/invitations`, { email: bob, role: "developer" });
  expect(invited.statusCode).toBe(201);
  const inviteUrl: string = invited.json().url;

  const { page, errors } = await newPage();
  await page.goto(inviteUrl);
  await page.getByRole("heading", { name: "Join Glaze Team" }).waitFor();
  await page.getByRole("link", { name: "Create an account to join" }).click();
  await fillSignup(page, "Bob Builder", bob);
  await page.getByText(bob).waitFor();
  await shot(page, "verify-email");
  await page.setViewportSize(PHONE);
  await shot(page, "verify-email-phone");
  await page.setViewportSize(DESKTOP);

  // A wrong code is refused with a sentence, not a stack of codes.
  const { code } = kiln.verificationMail(bob);
  await page.getByLabel("Verification code").fill(code === "000000" ? "000001" : "000000");
  await page.getByRole("button", { name: "Verify email" }).click();
  await page.getByRole("alert").getByText("That code is not right").waitFor();
  await shot(page, "verify-email-wrong-code");

  // Skipping leads back to the invitation, which asks for the verification first.
  await page.getByRole("button", { name: "Skip for now" }).click();
  await page.waitForURL(inviteUrl);
  await page.getByText("Verify your email address first").waitFor();
  expect(await page.getByRole("button", { name: "Accept and join" }).count()).toBe(0);
  await shot(page, "invite-verify-first");
  await page.setViewportSize(PHONE);
  await shot(page, "invite-verify-first-phone");
  await page.setViewportSize(DESKTOP);

  // Verify with the mailed code → back on the invitation → join.
  await page.getByRole("link", { name: "Verify my email" }).click();
  await page.getByLabel("Verification code").fill(code);
  await page.getByRole("button", { name: "Verify email" }).click();
  await page.waitForURL(inviteUrl);
  await page.getByRole("button", { name: "Accept and join" }).click();
  await page.waitForURL(`${base}/${slug}`);
  await page.getByRole("heading", { name: "Projects" }).waitFor();
  expect(await page.getByText("to join teams and invite people").count()).toBe(0);
  expect(errors).toEqual([]);
  await page.close();
}, 120_000);

it("an unverified user sees the banner, and the mailed link verifies in another browser", async () => {
  await browser.context.clearCookies(); // the invitee of the test before is signed out
  const { page, errors } = await newPage();
  const email = uniqueEmail("cleo");
  await page.goto(`${base}/signup`);
  await fillSignup(page, "Cleo Clay", email);
  await page.getByRole("button", { name: "Skip for now" }).click();
  await page.getByRole("heading", { name: "Projects" }).waitFor();
  const banner = page.getByRole("status").filter({ hasText: "to join teams and invite people" });
  await banner.waitFor();
  await shot(page, "verify-banner");
  await page.setViewportSize(PHONE);
  await shot(page, "verify-banner-phone");
  await page.setViewportSize(DESKTOP);

  // The link from the mail, opened where nobody is signed in (a phone's mail app, say).
  const { token } = kiln.verificationMail(email);
  const elsewhere = await launchChromium();
  const linkPage = await elsewhere.context.newPage();
  await linkPage.setViewportSize(PHONE);
  await linkPage.goto(`${base}/verify-email/${token}`);
  await linkPage.getByRole("button", { name: "Confirm email address" }).waitFor();
  await linkPage.screenshot({ path: path.join(SCREENSHOTS, "verify-link-phone.png") });
  await linkPage.getByRole("button", { name: "Confirm email address" }).click();
  await linkPage.getByRole("heading", { name: "Email verified" }).waitFor();
  await linkPage.screenshot({ path: path.join(SCREENSHOTS, "verify-link-done-phone.png") });
  // Single use: the same link again is refused.
  await linkPage.reload();
  await linkPage.getByRole("button", { name: "Confirm email address" }).click();
  await linkPage.getByText("This link is not valid").waitFor();
  await linkPage.close();
  await elsewhere.close();

  // Back in the first browser the banner is gone once the page asks again.
  await page.reload();
  await page.getByRole("heading", { name: "Projects" }).waitFor();
  await expect.poll(() => banner.count()).toBe(0);
  expect(errors).toEqual([]);
  await page.close();
}, 120_000);
