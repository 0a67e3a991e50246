/**
 * "Forgot password?" in the studio: from the log-in page a user asks for a link, opens the mailed link in
 * another browser, chooses a new password and lands in the studio signed in; the browser that was signed
 * in before is signed out, and the old password no longer works. A used link says so. Screenshots
 * (desktop and phone width) go to e2e/screenshots/.
 */
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { freePort } from "../packages/server/src/testing/free-port.ts";
import { startTestKiln, type TestKiln } from "../packages/server/src/testing/harness.ts";
import { type Browser, launchChromium } from "./chromium.ts";

const SCREENSHOTS = path.join(path.dirname(fileURLToPath(import.meta.url)), "screenshots");
const PHONE = { width: 390, height: 844 };
const NEW_PASSWORD = "a much better passphrase";

let kiln: TestKiln;
let before: Browser;
let after: Browser;
let base: string;

beforeAll(async () => {
  const port = await freePort();
  base = `http://localhost:${port}`;
  [kiln, before, after] = await Promise.all([
    startTestKiln({ env: { KILN_PUBLIC_URL: base } }),
    launchChromium({ viewport: { width: 1280, height: 800 } }),
    launchChromium({ viewport: PHONE, isMobile: true, hasTouch: true }),
  ]);
  await kiln.app.listen({ port, host: "127.0.0.1" });
  await mkdir(SCREENSHOTS, { recursive: true });
}, 120_000);

afterAll(async () => {
  await Promise.all([before?.close(), after?.close()]);
  await kiln?.stop();
});

const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`) });

async function logIn(page: Page, email: string, password: string): Promise<void> {
  await page.goto(`${base}/login`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
}

it("resets a forgotten password from the mailed link and signs the other browser out", async () => {
  const { user, password, personalOrg } = await kiln.signup({ name: "Fay Forgetful" });

  // Signed in on the desktop, then the password is forgotten on the phone.
  const desk = await before.context.newPage();
  await logIn(desk, user.email, password);
  await desk.waitForURL(`${base}/${personalOrg.slug}`);

  const phone = await after.context.newPage();
  await phone.goto(`${base}/login`);
  await phone.getByLabel("Email").fill(user.email);
  await phone.getByRole("link", { name: "Forgot password?" }).click();
  await phone.getByRole("heading", { name: "Reset your password" }).waitFor();
  expect(await phone.getByLabel("Email").inputValue()).toBe(user.email);
  await shot(phone, "password-reset-request-phone");
  await phone.getByRole("button", { name: "Send reset link" }).click();
  await phone.getByRole("heading", { name: "Check your email" }).waitFor();
  await phone.getByText("It works once, for 30 minutes.").waitFor();
  await shot(phone, "password-reset-sent-phone");

  await kiln.services.passwordReset.settled();
  const mail = kiln.mails.sent.findLast(
    (m) => m.to === user.email && m.subject === "Reset your Kiln password",
  );
  const link = /(http\S+\/reset-password\/\S+)/.exec(mail?.text ?? "")?.[1];
  expect(link, mail?.text).toBeTruthy();

  await phone.goto(link!);
  await phone.getByRole("heading", { name: "Choose a new password" }).waitFor();
  await phone.getByLabel("New password").fill(NEW_PASSWORD);
  await phone.getByLabel("Repeat it").fill(`${NEW_PASSWORD}!`);
  await phone.getByRole("button", { name: "Set new password" }).click();
  await phone.getByText("The two passwords differ.").waitFor();
  await phone.getByLabel("Repeat it").fill(NEW_PASSWORD);
  await shot(phone, "password-reset-choose-phone");
  await phone.getByRole("button", { name: "Set new password" }).click();
  await phone.waitForURL(`${base}/${personalOrg.slug}`);

  // The desktop's session is gone: its next request lands on the log-in page.
  await desk.reload();
  await desk.waitForURL(/\/login/);
  await logIn(desk, user.email, password);
  await desk.getByText("Wrong email or password.").waitFor();
  await logIn(desk, user.email, NEW_PASSWORD);
  await desk.waitForURL(`${base}/${personalOrg.slug}`);

  // The link was single use.
  const again = await before.context.newPage();
  await again.goto(link!);
  await again.getByLabel("New password").fill("one more passphrase");
  await again.getByLabel("Repeat it").fill("one more passphrase");
  await again.getByRole("button", { name: "Set new password" }).click();
  await again.getByText("This link is not valid").waitFor();
  await shot(again, "password-reset-used-link");
  await Promise.all([desk.close(), phone.close(), again.close()]);
});
