/**
 * The marketplace (ADR 0040) in a real browser against a real Kiln: Ada (the instance admin) publishes a
 * project as a template for every org from its settings (its .env stays behind), approves it in Admin →
 * Marketplace; Ben, in an org of his own, finds it on the Marketplace page, installs it, and the new
 * project's preview serves the same app. Ada publishes version 2; Ben's project shows "Update available".
 * Screenshots: e2e/screenshots/marketplace-*.png.
 */
import type { Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type Studio, shot, shotOnFailure, signUpInBrowser, startStudio } from "./studio-setup.ts";

const HEADING = "Marketplace demo shop";

let studio: Studio;

beforeAll(async () => {
  studio = await startStudio();
}, 120_000);

afterAll(async () => {
  await studio?.close();
});

/** A call to the API from the page, with its session and CSRF token, as the studio makes them. */
async function api(page: Page, method: string, url: string, body?: unknown): Promise<unknown> {
  const csrf = decodeURIComponent(
    (await studio.browser.context.cookies(studio.base)).find((c) => c.name === "kiln_csrf")?.value ?? "",
  );
  return page.evaluate(
    async ({ method, url, body, csrf }) => {
      const res = await fetch(url, {
        method,
        headers: {
          "x-csrf-token": csrf,
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${await res.text()}`);
      return res.json();
    },
    { method, url, body, csrf },
  );
}

it("publishes a project as a template, installs it in another org, and shows an update when v2 is out", async () => {
  const page = await studio.browser.context.newPage();
  await page.setViewportSize({ width: 1280, height: 900 });
  shotOnFailure(page, "marketplace");
  const errors: string[] = [];
  page.on("pageerror", (err) => errors.push(err.message));

  // Ada, the instance's first account (its admin), makes a small site with a secret next to it.
  const ada = await signUpInBrowser(page, studio, "Ada Publisher");
  const source = (await api(page, "POST", `/api/orgs/${ada.org}/projects`, {
    name: "Demo shop",
    template: "static",
  })) as { slug: string };
  const files = `/api/orgs/${ada.org}/projects/${source.slug}/files/content`;
  await api(page, "PUT", files, { path: "index.html", content: `<h1>${HEADING}</h1><p>v1</p>` });
  await api(page, "PUT", files, { path: ".env", content: "SHOP_KEY=sk_live_never_published" });

  // Project settings → Marketplace: publish for every org.
  await page.goto(`${studio.base}/${ada.org}/${source.slug}/settings`);
  await page.getByRole("heading", { name: "Marketplace" }).waitFor();
  const form = page.getByRole("form", { name: "Publish as template" });
  await form.getByLabel("Template name").fill("Demo shop");
  await form.getByLabel("Template description").fill("A one-page shop to start from");
  await form.getByLabel("Who sees it").selectOption("instance");
  await form.getByRole("button", { name: "Publish as template" }).click();
  await page.getByTestId("published-listing").getByText("version 1 (awaiting approval)").waitFor();
  await page.getByTestId("published-listing").scrollIntoViewIfNeeded();
  await shot(page, "marketplace-publish");

  // Admin → Marketplace: approve it.
  await page.goto(`${studio.base}/admin?tab=marketplace`);
  const pending = page.getByTestId("pending-listing").filter({ hasText: "Demo shop" });
  await pending.waitFor();
  await shot(page, "marketplace-approve");
  await pending.getByRole("button", { name: "Approve" }).click();
  await page.getByText("Nothing to approve").waitFor();

  // Ben, in his own org, finds it and installs it.
  await studio.browser.context.clearCookies();
  const ben = await signUpInBrowser(page, studio, "Ben Installer");
  await page.getByRole("link", { name: "Marketplace" }).first().click();
  await page.getByRole("heading", { name: "Marketplace" }).waitFor();
  await page.getByLabel("Search templates").fill("one-page");
  const card = page.getByTestId("marketplace-listing").filter({ hasText: "Demo shop" });
  await card.waitFor();
  expect(await card.textContent()).toContain("by Ada");
  await shot(page, "marketplace-browse");
  await card.getByRole("button", { name: "Install" }).click();
  const dialog = page.getByRole("dialog");
  await dialog.getByLabel("Project name").fill("Ben shop");
  await dialog.getByRole("button", { name: "Install" }).click();
  await page.waitForURL(`${studio.base}/${ben.org}/ben-shop`, { timeout: 60_000 });

  // The installed project serves the same app; its secret stayed behind.
  const preview = page.frameLocator('iframe[title="App preview"]');
  await preview.getByRole("heading", { name: HEADING }).waitFor({ timeout: 120_000 });
  await preview.getByText("v1").waitFor();
  const installedFiles = (await api(
    page,
    "GET",
    `/api/orgs/${ben.org}/projects/ben-shop/files/tree`,
  )) as unknown;
  expect(JSON.stringify(installedFiles)).not.toContain(".env");
  await shot(page, "marketplace-installed");

  // Ada publishes version 2 (through the API, as her own client); Ben's project offers the update.
  const adaClient = studio.kiln.client();
  const login = await adaClient.post("/api/auth/login", {
    email: ada.email,
    password: "correct horse battery",
  });
  expect(login.statusCode, login.body).toBe(200);
  const write = await adaClient.put(files, { path: "index.html", content: `<h1>${HEADING}</h1><p>v2</p>` });
  expect(write.statusCode, write.body).toBe(200);
  const v2 = await adaClient.post(`/api/orgs/${ada.org}/projects/${source.slug}/marketplace`, {
    name: "Demo shop",
    description: "A one-page shop to start from, now with v2",
    visibility: "instance",
  });
  expect(v2.statusCode, v2.body).toBe(201);
  expect(v2.json().latestVersion).toBe(2);

  await page.goto(`${studio.base}/${ben.org}/ben-shop`);
  await page.getByTestId("update-available").getByText("Update available: v2").waitFor();
  await preview.getByRole("heading", { name: HEADING }).waitFor({ timeout: 60_000 });
  await shot(page, "marketplace-update-available");
  await page.goto(`${studio.base}/${ben.org}/ben-shop/settings`);
  await page.getByTestId("installed-from").getByText("Update available: v2").waitFor();
  expect(errors).toEqual([]);
}, 300_000);
