/**
 * The instance administrator in the studio: the first account on a fresh instance finds "Instance admin" in
 * its menu, sees the instance's counts, finds another account and suspends it (that person is signed out
 * at once), and limits sign-up to a domain. Someone else sees no such menu item. Desktop and phone
 * screenshots.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { type Studio, shot, shotOnFailure, signUpInBrowser, startStudio } from "./studio-setup.ts";

let studio: Studio;

beforeAll(async () => {
  studio = await startStudio();
}, 120_000);

afterAll(() => studio?.close());

it("lets the first account run the instance: accounts, suspension and who may sign up", async () => {
  const page = await studio.browser.context.newPage();
  shotOnFailure(page, "admin");
  await page.setViewportSize({ width: 1280, height: 860 });
  await signUpInBrowser(page, studio, "Opal Operator");
  const other = await studio.kiln.signup({ name: "Stan Stranger" });
  expect((await other.client.get("/api/auth/me")).json().instanceAdmin).toBe(false);

  await page.getByRole("button", { name: "Account menu" }).click();
  await page.getByRole("menuitem", { name: "Instance admin" }).click();
  await page.getByRole("heading", { name: "Instance admin" }).waitFor();
  await page.getByText("Accounts", { exact: true }).first().waitFor();
  await shot(page, "admin-overview");

  await page.getByRole("tab", { name: "Accounts" }).click();
  await page.getByLabel("Search accounts").fill("stan");
  const row = page.locator(`li[data-user="${other.user.email}"]`);
  await row.waitFor();
  await expect.poll(() => page.getByRole("list", { name: "Accounts" }).getByRole("listitem").count()).toBe(1);
  await row.getByRole("button", { name: "Suspend" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Suspend" }).click();
  await row.getByText("Suspended").waitFor();
  // Signed out at once, and kept out.
  expect((await other.client.get("/api/auth/me")).statusCode).toBe(401);
  const again = await studio.kiln.client().post("/api/auth/login", {
    email: other.user.email,
    password: other.password,
  });
  expect([again.statusCode, again.json().error.code]).toEqual([403, "account_suspended"]);
  await shot(page, "admin-accounts");

  await page.getByRole("tab", { name: "Sign-up" }).click();
  await page.getByLabel("Some domains").check();
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByRole("alert").getByText("name at least one domain").waitFor();
  await page.getByLabel("Domains", { exact: true }).fill("example.org");
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByText("Sign-up policy saved").waitFor();
  const refused = await studio.kiln.client().post("/api/auth/signup", {
    email: "someone@example.net",
    password: "correct horse battery",
  });
  expect([refused.statusCode, refused.json().error.code]).toEqual([403, "signup_not_allowed"]);
  await shot(page, "admin-signup");

  await page.setViewportSize({ width: 390, height: 844 });
  await page.getByRole("tab", { name: "Accounts" }).click();
  await page.getByLabel("Search accounts").fill("");
  await row.waitFor();
  expect(await page.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(390);
  await shot(page, "admin-accounts-phone");
  await page.close();
}, 150_000);
