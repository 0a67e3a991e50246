/**
 * "Share this version" in a real browser: a project published twice, the first deployment shared from the
 * Publish dialog; a stranger's browser opens the link and sees the first version while the public address
 * serves the second; once revoked the link opens nothing. And a published server app's runtime log, shown in
 * the same dialog once a visitor has started it.
 */
import type { Deployment } from "@kiln/protocol";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type Browser, launchChromium } from "./chromium.ts";
import { type Studio, shot, shotOnFailure, signUpInBrowser, startStudio } from "./studio-setup.ts";

let studio: Studio;
let stranger: Browser;

beforeAll(async () => {
  [studio, stranger] = await Promise.all([startStudio(), launchChromium()]);
}, 120_000);

afterAll(async () => {
  await stranger?.close();
  await studio?.close();
});

async function call(
  page: Page,
  method: "POST" | "GET" | "PUT",
  url: string,
  data?: unknown,
): Promise<unknown> {
  const csrf = (await studio.browser.context.cookies(studio.base)).find((c) => c.name === "kiln_csrf");
  const res = await page.request.fetch(`${studio.base}${url}`, {
    method,
    headers: { "x-csrf-token": decodeURIComponent(csrf?.value ?? "") },
    ...(data === undefined ? {} : { data }),
  });
  expect(res.status(), await res.text()).toBeLessThan(300);
  return res.json();
}

async function publish(page: Page, api: string, html: string): Promise<void> {
  await call(page, "PUT", `${api}/files/content`, { path: "index.html", content: html });
  let d = (await call(page, "POST", `${api}/deployments`)) as Deployment;
  while (d.status === "building") {
    await new Promise((r) => setTimeout(r, 200));
    d = (await call(page, "GET", `${api}/deployments/${d.id}`)) as Deployment;
  }
  expect(d.status).toBe("ready");
}

it("shares the first of two deployments; the link shows that version until revoked", async () => {
  const page = await studio.browser.context.newPage();
  shotOnFailure(page, "share-version");
  const { org } = await signUpInBrowser(page, studio, "Vera Versions");
  const { slug } = (await call(page, "POST", `/api/orgs/${org}/projects`, {
    name: "Menu",
    template: "static",
  })) as { slug: string };
  const api = `/api/orgs/${org}/projects/${slug}`;
  await publish(page, api, '<meta name="viewport" content="width=device-width"><h1>Spring menu</h1>');
  await publish(page, api, '<meta name="viewport" content="width=device-width"><h1>Summer menu</h1>');

  await page.goto(`${studio.base}/${org}/${slug}`);
  await page.getByRole("button", { name: "Publish", exact: true }).click();
  const dialog = page.getByRole("dialog", { name: "Publish" });
  const first = dialog.getByTestId("deployment").filter({ hasText: "#1" });
  await first.getByRole("button", { name: "Share this version" }).click();
  const panel = first.getByRole("group", { name: "Share deployment #1" });
  await panel.getByRole("button", { name: "Make link" }).click();
  const url = await panel.getByLabel("New version link").inputValue();
  expect(url).toMatch(
    new RegExp(`^http://${slug}--${org}--d1\\.apps\\.localhost:${studio.port}/__kiln/share/`),
  );
  await shot(page, "share-version-dialog");

  const visitor = await stranger.context.newPage();
  await visitor.goto(url);
  await visitor.getByRole("heading", { name: "Spring menu" }).waitFor();
  expect(new URL(visitor.url()).pathname).toBe("/");
  await visitor.goto(`http://${slug}--${org}.apps.localhost:${studio.port}/`);
  await visitor.getByRole("heading", { name: "Summer menu" }).waitFor();

  await panel.getByRole("button", { name: "Revoke" }).click();
  await panel.getByRole("button", { name: "Revoke" }).waitFor({ state: "detached" });
  const again = await visitor.goto(new URL("/", url).toString());
  expect(again?.status()).toBe(401);
  await visitor.getByRole("heading", { name: "This link does not open anything" }).waitFor();
  await visitor.setViewportSize({ width: 390, height: 844 });
  await shot(visitor, "share-version-revoked-phone");
}, 180_000);

it("shows a published server app's runtime log in the Publish dialog", async () => {
  const page = await studio.browser.context.newPage();
  shotOnFailure(page, "runtime-log");
  await studio.browser.context.clearCookies(); // another person: the first test's user is signed in
  const { org } = await signUpInBrowser(page, studio, "Rhea Runtime");
  const { slug } = (await call(page, "POST", `/api/orgs/${org}/projects`, {
    name: "Notes api",
    template: "node-api",
  })) as { slug: string };
  const api = `/api/orgs/${org}/projects/${slug}`;
  let d = (await call(page, "POST", `${api}/deployments`)) as Deployment;
  while (d.status === "building") {
    await new Promise((r) => setTimeout(r, 200));
    d = (await call(page, "GET", `${api}/deployments/${d.id}`)) as Deployment;
  }
  expect([d.status, d.server]).toEqual(["ready", true]);
  // A visitor's first request starts the app.
  const visitor = await stranger.context.newPage();
  await visitor.goto(`http://${slug}--${org}.apps.localhost:${studio.port}/`);
  await visitor.getByText("Node API starter").first().waitFor({ timeout: 30_000 });

  await page.goto(`${studio.base}/${org}/${slug}`);
  await page.getByRole("button", { name: "Publish", exact: true }).click();
  const dialog = page.getByRole("dialog", { name: "Publish" });
  const row = dialog.getByTestId("deployment").filter({ hasText: "#1" });
  await row.getByRole("button", { name: "Runtime log" }).click();
  const log = row.getByRole("log", { name: "Runtime log of deployment #1" });
  await log.getByText(/API listening on/).waitFor();
  await log.getByText("— up: /api/health answered").waitFor();
  await shot(page, "runtime-log-dialog");
}, 180_000);
