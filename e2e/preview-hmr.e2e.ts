/**
 * The issue-3 proof in a real browser: a react-vite project created over the API opens in Chromium through
 * the preview proxy (private preview, sign-in hand-off), and a file written through the file API shows up
 * on the open page by Vite HMR — no reload — with no request leaving the preview origin.
 */
import { mkdir } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  type SignedUp,
  startTestKiln,
  type TestKiln,
  uniqueSlug,
} from "../packages/server/src/testing/harness.ts";
import { type Browser, launchChromium } from "./chromium.ts";

const SCREENSHOTS = path.join(path.dirname(fileURLToPath(import.meta.url)), "screenshots");
const BEFORE = "Your app starts here";
const AFTER = "Changed through the file API";

let kiln: TestKiln;
let browser: Browser;
let port: number;
let owner: SignedUp;
let org: string;

beforeAll(async () => {
  [kiln, browser] = await Promise.all([startTestKiln(), launchChromium()]);
  await kiln.app.listen({ port: 0, host: "127.0.0.1" });
  port = (kiln.app.server.address() as AddressInfo).port;
  owner = await kiln.signup();
  org = uniqueSlug("org");
  expect((await owner.client.post("/api/orgs", { name: "E2E", slug: org })).statusCode).toBe(201);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await kiln?.stop();
});

/**
 * Watches the page for the new heading from inside it, so the time is taken when the DOM changes, not when
 * the test next polls. Also leaves a marker that a navigation (full reload) would wipe.
 */
function watchHeading(page: Page, text: string): Promise<unknown> {
  return page.evaluate(`(() => {
    globalThis.__kilnMarker = 1;
    const check = () => {
      const h1 = document.querySelector("h1");
      if (h1 && h1.textContent === ${JSON.stringify(text)} && !globalThis.__kilnChangedAt)
        globalThis.__kilnChangedAt = Date.now();
    };
    new MutationObserver(check).observe(document.body, { subtree: true, childList: true, characterData: true });
  })()`);
}

it("shows a react-vite project in Chromium and hot-updates it when a file is written", async () => {
  const created = await owner.client.post(`/api/orgs/${org}/projects`, {
    name: "Hot",
    template: "react-vite",
  });
  expect(created.statusCode).toBe(201);
  const slug = created.json().slug as string;
  const files = `/api/orgs/${org}/projects/${slug}/files/content`;

  const session = await owner.client.post(`/api/orgs/${org}/projects/${slug}/preview-session`);
  expect(session.statusCode).toBe(200);
  // The link names the public URL (localhost:4000); this Kiln listens on a random port.
  const link = new URL(session.json().url);
  expect(link.host).toBe(`${slug}--${org}.localhost:4000`);
  link.port = String(port);
  const previewHost = link.host;

  const page = await browser.context.newPage();
  const hosts = new Set<string>();
  page.on("request", (r) => {
    hosts.add(new URL(r.url()).host);
  });
  let hmrConnected = false;
  page.on("websocket", (ws) => {
    hosts.add(new URL(ws.url()).host);
    ws.on("framereceived", (f) => {
      if (typeof f.payload === "string" && f.payload.includes('"type":"connected"')) hmrConnected = true;
    });
  });
  let navigations = 0;
  page.on("framenavigated", (frame) => {
    if (frame === page.mainFrame()) navigations++;
  });

  // Hand-off link → preview cookie → "starting…" page that reloads itself → the app.
  await page.goto(link.toString());
  await page.getByRole("heading", { level: 1, name: BEFORE }).waitFor({ timeout: 90_000 });
  await expect.poll(() => hmrConnected, { timeout: 20_000 }).toBe(true);
  expect(new URL(page.url()).host).toBe(previewHost);

  // Fast Refresh keeps component state across the edit: click once so there is some.
  await page.getByRole("button", { name: /Clicked 0 times/ }).click();
  await page.getByRole("button", { name: /Clicked 1 time/ }).waitFor();

  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, "preview-before-edit.png") });

  await watchHeading(page, AFTER);
  const navigationsBefore = navigations;
  const source = (await owner.client.get(`${files}?path=src/App.tsx`)).json().content as string;
  expect(source).toContain(BEFORE);
  const t0 = Date.now();
  const write = await owner.client.put(files, {
    path: "src/App.tsx",
    content: source.replace(BEFORE, AFTER),
  });
  expect(write.statusCode).toBe(200);
  await page.getByRole("heading", { level: 1, name: AFTER }).waitFor({ timeout: 20_000 });

  // Updated in place: same document (marker kept, no navigation), state kept by Fast Refresh.
  expect(navigations, "the page reloaded instead of hot-updating").toBe(navigationsBefore);
  expect(await page.evaluate("globalThis.__kilnMarker")).toBe(1);
  expect(await page.getByRole("button", { name: /Clicked 1 time/ }).count()).toBe(1);
  const changedAt = (await page.evaluate("globalThis.__kilnChangedAt")) as number;
  process.stdout.write(`[e2e] file API write → heading updated in Chromium: ${changedAt - t0} ms\n`);

  await page.screenshot({ path: path.join(SCREENSHOTS, "preview-hmr.png") });

  // Everything the preview loaded — documents, modules, styles, the HMR socket — came from its own origin.
  expect([...hosts]).toEqual([previewHost]);
  await page.close();
}, 150_000);
