/**
 * The instance administrator in the studio: the first account on a fresh instance finds "Instance admin" in
 * its menu, sees the instance's counts, finds another account and suspends it (that person is signed out
 * at once), and limits sign-up to a domain. Someone else sees no such menu item. Then it mails someone a
 * password reset, deletes an account (its plan shown first), reads the instance's usage and cost, deletes an
 * org from its detail, and finds all of it in the admin log. Desktop and phone screenshots.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, expect, it } from "vitest";
import { llmCalls } from "../packages/server/src/db/schema-tenant.ts";
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
  await row.getByText("Suspended").waitFor();
  expect(await page.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(390);
  await shot(page, "admin-accounts-phone");
  await page.close();
}, 150_000);

it("resets a password, deletes an account and an org, shows usage and cost, and logs what the admin did", async () => {
  const { kiln, base } = studio;
  const page = await studio.browser.context.newPage();
  shotOnFailure(page, "admin-manage");
  await page.setViewportSize({ width: 1280, height: 860 });
  // The first test left sign-up to one domain: open it again (that is logged too).
  await page.goto(`${base}/admin?tab=signup`);
  await page.getByLabel("Anyone").check();
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByText("Sign-up policy saved").waitFor();

  const rita = await kiln.signup({ name: "Rita Reset" });
  const dora = await kiln.signup({ name: "Dora Delete" });
  const olga = await kiln.signup({ name: "Olga Owner" });
  const doomed = (
    await olga.client.post("/api/orgs", { name: "Doomed Studio", slug: "doomed-studio" })
  ).json();
  const busy = (await olga.client.post("/api/orgs", { name: "Busy Bakery", slug: "busy-bakery" })).json();
  // Mia joins Busy Bakery: Olga, its last owner, cannot be deleted while Mia is in it.
  const mia = await kiln.signup({ name: "Mia Member" });
  const invited = await olga.client.post("/api/orgs/busy-bakery/invitations", {
    email: mia.user.email,
    role: "developer",
  });
  const inviteToken = new URL(invited.json().url).pathname.split("/").pop();
  expect((await mia.client.post(`/api/invitations/${inviteToken}/accept`)).statusCode).toBe(200);
  // Model calls as the gateway logs them, in each org's own schema.
  for (const [orgId, calls] of [
    [doomed.id, [{ cost: 1.5, input: 120_000, output: 8_000 }]],
    [
      busy.id,
      [
        { cost: 12.25, input: 900_000, output: 60_000 },
        { cost: 0.75, input: 40_000, output: 2_000 },
      ],
    ],
  ] as const) {
    const org = await kiln.services.orgs.row(orgId);
    await kiln.database.tenant(org.schemaName, (tx) =>
      tx.insert(llmCalls).values(
        calls.map((c) => ({
          id: randomUUID(),
          source: "chat",
          provider: "openai",
          model: "gpt-4.1",
          stream: true,
          inputTokens: c.input,
          outputTokens: c.output,
          durationMs: 900,
          costUsd: c.cost,
          status: "ok",
        })),
      ),
    );
  }

  // A password reset: signed out everywhere, the mail on its way.
  await page.goto(`${base}/admin?tab=accounts`);
  await page.getByLabel("Search accounts").fill("rita");
  const ritaRow = page.locator(`li[data-user="${rita.user.email}"]`);
  await ritaRow.getByRole("button", { name: "Send password reset" }).click();
  await page.getByRole("dialog").getByText("signed out everywhere").waitFor();
  await page.getByRole("dialog").getByRole("button", { name: "Send reset" }).click();
  await page.getByText(`Password reset sent to ${rita.user.email}`).waitFor();
  await shot(page, "admin-reset-sent");
  expect((await rita.client.get("/api/auth/me")).statusCode).toBe(401);
  await kiln.services.passwordReset.settled();
  const mail = kiln.mails.sent.findLast((m) => m.to === rita.user.email && m.subject.includes("Reset"));
  expect(mail?.text).toMatch(/\/reset-password\/kpr_/);

  // Deleting an account: the plan first.
  await page.getByLabel("Search accounts").fill("dora");
  const doraRow = page.locator(`li[data-user="${dora.user.email}"]`);
  await doraRow.getByRole("button", { name: "Delete…" }).click();
  const plan = page.getByRole("dialog").getByRole("list", { name: "Deleted with it, projects and all" });
  await plan.getByText(`/${dora.personalOrg.slug}`).waitFor();
  await shot(page, "admin-delete-plan");
  await page.getByRole("dialog").getByRole("button", { name: "Delete account" }).click();
  await page.getByText(`${dora.user.email} is deleted`).waitFor();
  await page.getByText("No accounts match").waitFor();
  expect((await dora.client.get("/api/auth/me")).statusCode).toBe(401);

  // An owner of others' orgs is explained, not deleted.
  await page.getByLabel("Search accounts").fill("olga");
  await page.locator(`li[data-user="${olga.user.email}"]`).getByRole("button", { name: "Delete…" }).click();
  await page.getByRole("dialog").getByText("cannot be deleted yet").waitFor();
  await page.getByRole("dialog").getByRole("list", { name: "Blocked by" }).getByText("Busy Bakery").waitFor();
  await shot(page, "admin-delete-blocked");
  await page.getByRole("dialog").getByRole("button", { name: "OK" }).click();

  // The instance's usage and cost, costliest org first.
  await page.getByRole("tab", { name: "Usage" }).click();
  const table = page.getByRole("table", { name: "Usage per org" });
  await table.locator('tr[data-org="busy-bakery"]').getByText("$13.00").waitFor();
  await page.getByText("$14.50").waitFor();
  expect(await table.locator("tbody tr").first().getAttribute("data-org")).toBe("busy-bakery");
  await shot(page, "admin-usage");

  // An org in detail, then deleted.
  await page.getByRole("tab", { name: "Orgs" }).click();
  await page.getByLabel("Search orgs").fill("doomed");
  await page.getByRole("button", { name: "Details of Doomed Studio" }).click();
  const detail = page.getByRole("dialog");
  await detail.getByRole("list", { name: "Members" }).getByText(olga.user.email).waitFor();
  await detail.getByText("$1.50").waitFor();
  await shot(page, "admin-org-detail");
  await detail.getByRole("button", { name: "Delete org…" }).click();
  await page
    .getByRole("dialog")
    .filter({ hasText: "Delete Doomed Studio?" })
    .getByRole("button", { name: "Delete org" })
    .click();
  await page.getByText("Doomed Studio is deleted").waitFor();
  await page.getByText("No orgs match").waitFor();
  expect((await olga.client.get("/api/orgs/doomed-studio")).statusCode).toBe(404);

  // All of it in the admin log.
  await page.getByRole("tab", { name: "Admin log" }).click();
  const log = page.getByRole("list", { name: "Admin log" });
  await log.locator('li[data-action="admin.org_deleted"]').getByText("Doomed Studio").first().waitFor();
  await log.locator('li[data-action="admin.user_deleted"]').waitFor();
  await log
    .locator('li[data-action="admin.user_password_reset"]')
    .getByText(rita.user.email)
    .first()
    .waitFor();
  await log.locator('li[data-action="admin.user_suspended"]').waitFor();
  await shot(page, "admin-log");

  await page.setViewportSize({ width: 390, height: 844 });
  for (const [tab, name] of [
    ["Usage", "admin-usage-phone"],
    ["Admin log", "admin-log-phone"],
  ] as const) {
    await page.getByRole("tab", { name: tab }).click();
    await page.waitForTimeout(200);
    expect(await page.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(390);
    await shot(page, name);
  }
  await page.getByRole("tab", { name: "Orgs" }).click();
  await page.getByLabel("Search orgs").fill("busy");
  await page.getByRole("button", { name: "Details of Busy Bakery" }).click();
  await page.getByRole("dialog").getByRole("list", { name: "Members" }).waitFor();
  await shot(page, "admin-org-detail-phone");
  await page.close();
}, 150_000);
