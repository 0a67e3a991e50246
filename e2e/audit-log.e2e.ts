/**
 * The audit log in the studio: an org owner invites a developer, makes them an admin and creates a project;
 * Settings → Audit log shows who did each, filters by kind and person, and exports what it shows as CSV.
 * Screenshots at desktop and phone width.
 */
import type { Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { uniqueSlug } from "../packages/server/src/testing/harness.ts";
import { type Studio, shot, shotOnFailure, signUpInBrowser, startStudio } from "./studio-setup.ts";

let studio: Studio;

beforeAll(async () => {
  studio = await startStudio();
}, 120_000);

afterAll(() => studio?.close());

async function call(page: Page, method: "POST" | "GET" | "PATCH", url: string, data?: unknown) {
  const csrf = (await studio.browser.context.cookies(studio.base)).find((c) => c.name === "kiln_csrf");
  const res = await page.request.fetch(`${studio.base}${url}`, {
    method,
    headers: { "x-csrf-token": decodeURIComponent(csrf?.value ?? "") },
    ...(data === undefined ? {} : { data }),
  });
  expect(res.status(), await res.text()).toBeLessThan(300);
  return res;
}

it("shows who did what, filters it, and exports it as CSV", async () => {
  const page = await studio.browser.context.newPage();
  shotOnFailure(page, "audit-log");
  await page.setViewportSize({ width: 1280, height: 860 });
  const { email } = await signUpInBrowser(page, studio, "Audra Auditor");
  const slug = uniqueSlug("acme");
  await call(page, "POST", "/api/orgs", { name: "Acme", slug });
  const dev = await studio.kiln.signup({ name: "Dev Eloper" });
  const invited = await call(page, "POST", `/api/orgs/${slug}/invitations`, {
    email: dev.user.email,
    role: "developer",
  });
  const token = new URL((await invited.json()).url).pathname.split("/").at(-1);
  expect((await dev.client.post(`/api/invitations/${token}/accept`)).statusCode).toBe(200);
  await call(page, "PATCH", `/api/orgs/${slug}/members/${dev.user.id}`, { role: "admin" });
  await call(page, "POST", `/api/orgs/${slug}/projects`, { name: "Ledger", template: "static" });

  await page.goto(`${studio.base}/${slug}/settings`);
  await page.getByRole("tab", { name: "Audit log" }).click();
  const list = page.getByRole("list", { name: "Audit events" });
  const roleChange = list.locator('li[data-action="member.role_changed"]');
  await roleChange.waitFor();
  await expect.poll(() => roleChange.textContent()).toContain(email);
  expect(await roleChange.textContent()).toContain("changed a member's role");
  expect(await roleChange.textContent()).toContain(dev.user.email);
  expect(await roleChange.textContent()).toContain("to: admin");
  await shot(page, "audit-log");

  // Only members' events; then only what the developer did; then nothing from tomorrow on.
  await page.getByLabel("Kind").selectOption({ label: "Members" });
  await expect
    .poll(async () => [
      ...new Set(await list.locator("li").evaluateAll((li) => li.map((x) => x.dataset.action))),
    ])
    .toEqual(["member.role_changed", "member.joined"]);
  const csvHref = await page.getByRole("link", { name: "Export CSV" }).getAttribute("href");
  expect(csvHref).toContain("action=member");
  const csv = await (await call(page, "GET", csvHref!)).text();
  expect(csv.split("\r\n")[0]).toMatch(/^seq,id,at,action,/);
  expect(csv).toContain("member.role_changed");
  expect(csv).not.toContain("project.created");
  // What the developer did themselves: joining.
  await page.getByLabel("Person").selectOption({ label: dev.user.email });
  await expect
    .poll(async () => [
      ...new Set(await list.locator("li").evaluateAll((li) => li.map((x) => x.dataset.action))),
    ])
    .toEqual(["member.joined"]);
  // Nothing of theirs before tomorrow.
  const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
  await page.getByLabel("Since").fill(tomorrow);
  await page.getByText("Nothing matches these filters.").waitFor();
  await page.getByLabel("Since").fill("");

  await page.setViewportSize({ width: 390, height: 844 });
  await page.getByLabel("Person").selectOption({ label: "Anyone" });
  await roleChange.waitFor();
  expect(await page.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(390);
  await shot(page, "audit-log-phone");
  await page.close();
}, 150_000);
