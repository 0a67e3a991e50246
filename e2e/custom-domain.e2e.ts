/**
 * A custom domain (ADR 0026) in a real browser: an admin publishes a static site, adds `shop.example.com` in
 * the project's settings, is shown the TXT record to create, and verifies it against a real DNS server
 * (dnsmasq). A stranger's Chromium, which resolves the name to this machine, sees a "not verified" page
 * before and the published site after; on a desktop screen and a phone's.
 */
import type { Deployment } from "@kiln/protocol";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type DnsServer, startDnsServer } from "../packages/server/src/testing/dns-server.ts";
import { type Browser, launchChromium } from "./chromium.ts";
import { type Studio, shot, shotOnFailure, signUpInBrowser, startStudio } from "./studio-setup.ts";

const HOST = "shop.example.com";

let dns: DnsServer;
let studio: Studio;
let stranger: Browser;

beforeAll(async () => {
  dns = await startDnsServer();
  [studio, stranger] = await Promise.all([
    startStudio({ env: { KILN_DNS_SERVERS: dns.server } }),
    // The stranger's resolver knows the domain points here, as the Internet's would once it is set up.
    launchChromium(undefined, [`--host-resolver-rules=MAP ${HOST} 127.0.0.1`]),
  ]);
}, 120_000);

afterAll(async () => {
  await stranger?.close();
  await studio?.close();
  await dns?.stop();
});

/** A call to the API with the page's session and CSRF token, as the studio makes them. */
async function call(page: Page, method: "POST" | "GET", url: string, data?: unknown): Promise<unknown> {
  const csrf = (await studio.browser.context.cookies(studio.base)).find((c) => c.name === "kiln_csrf");
  const res = await page.request.fetch(`${studio.base}${url}`, {
    method,
    headers: { "x-csrf-token": decodeURIComponent(csrf?.value ?? "") },
    ...(data === undefined ? {} : { data }),
  });
  expect(res.status(), await res.text()).toBeLessThan(300);
  return res.json();
}

it("adds a custom domain, verifies its TXT record, and serves the published site there", async () => {
  const page = await studio.browser.context.newPage();
  shotOnFailure(page, "custom-domain");
  const { org } = await signUpInBrowser(page, studio, "Dana Domains");
  const project = (await call(page, "POST", `/api/orgs/${org}/projects`, {
    name: "Corner shop",
    template: "static",
  })) as { slug: string };
  const api = `/api/orgs/${org}/projects/${project.slug}`;
  let deployment = (await call(page, "POST", `${api}/deployments`)) as Deployment;
  while (deployment.status === "building") {
    await new Promise((r) => setTimeout(r, 200));
    deployment = (await call(page, "GET", `${api}/deployments/${deployment.id}`)) as Deployment;
  }
  expect(deployment.status).toBe("ready");

  await page.goto(`${studio.base}/${org}/${project.slug}/settings`);
  const section = page.getByRole("list", { name: "Custom domains" });
  await section.getByText("No custom domains.").waitFor();
  await page.getByLabel("Domain", { exact: true }).fill("Shop.Example.com");
  await page.getByRole("button", { name: "Add domain" }).click();
  const row = section.getByTestId("custom-domain").filter({ hasText: HOST });
  await row.getByText("Pending").waitFor();
  await row.getByText(`_kiln-challenge.${HOST}`).waitFor();
  const token = await row.getByText(/^kiln-verify-/).textContent();
  expect(token).toMatch(/^kiln-verify-[\w-]+$/);

  // Before the record exists: the stranger gets a page saying so, and Verify says why not.
  const visitor = await stranger.context.newPage();
  const address = `http://${HOST}:${studio.port}/`;
  const pending = await visitor.goto(address);
  expect(pending?.status()).toBe(404);
  await visitor.getByRole("heading", { name: `${HOST} is not verified yet` }).waitFor();
  await row.getByRole("button", { name: "Verify" }).click();
  await row.getByText(/no TXT record at _kiln-challenge\.shop\.example\.com/).waitFor();
  await row.scrollIntoViewIfNeeded();
  await shot(page, "custom-domain-pending");

  await dns.setTxt({ [`_kiln-challenge.${HOST}`]: [token!] });
  await row.getByRole("button", { name: "Verify" }).click();
  await row.getByText("Verified").waitFor();
  await row.getByRole("link", { name: address.replace(/\/$/, "") }).waitFor();
  await row.scrollIntoViewIfNeeded();
  await shot(page, "custom-domain-verified");

  await visitor.goto(address);
  await visitor.getByRole("heading", { name: "Hello, static web" }).waitFor();
  expect(new URL(visitor.url()).host).toBe(`${HOST}:${studio.port}`);
  await shot(visitor, "custom-domain-site");
  await visitor.setViewportSize({ width: 390, height: 844 });
  await visitor.reload();
  await visitor.getByRole("heading", { name: "Hello, static web" }).waitFor();
  await shot(visitor, "custom-domain-site-phone");
  await page.setViewportSize({ width: 390, height: 844 });
  await row.scrollIntoViewIfNeeded();
  await shot(page, "custom-domain-settings-phone");
}, 180_000);
