/**
 * Preview errors reach Kiln from a real browser: a react-vite project whose button throws in its click
 * handler and in a timer, and rejects a promise, reports all three through the script the preview proxy
 * injects; a broken import shows up from the dev server's output. Both are what `recent()` hands the agent.
 * In the studio: errors seen while the agent works are held until its turn ends, and clear when the page
 * loads cleanly again; a static page in the (cross-site) preview iframe can use localStorage, and the
 * banner names an error thrown by a module script instead of saying "Uncaught".
 */
import { mkdir } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type FakeProvider, lastUserText, readConversation, startFakeProvider } from "@kiln/fake-provider";
import type { PreviewError } from "@kiln/protocol";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, expect, it, onTestFailed } from "vitest";
import { freePort } from "../packages/server/src/testing/free-port.ts";
import {
  type SignedUp,
  startTestKiln,
  type TestKiln,
  uniqueSlug,
} from "../packages/server/src/testing/harness.ts";
import { type Browser, launchChromium } from "./chromium.ts";
import { enterMailedCode } from "./verify-email.ts";

const SCREENSHOTS = path.join(path.dirname(fileURLToPath(import.meta.url)), "screenshots");

let kiln: TestKiln;
let browser: Browser;
let fake: FakeProvider;
let base: string;
let port: number;
let owner: SignedUp;
let org: string;
let orgId: string;

/** A turn that streams for a while (and touches no file), so the test can act while it runs. */
const SLOW = `Thinking it over. ${"Still thinking about the page and what it needs. ".repeat(30)}Done.`;

beforeAll(async () => {
  fake = await startFakeProvider({
    responder: (request) =>
      /slow/i.test(lastUserText(readConversation(request)))
        ? { text: SLOW, chunkSize: 8, delayMs: 80 }
        : { text: "Nothing to do." },
  });
  port = await freePort();
  base = `http://localhost:${port}`;
  [kiln, browser] = await Promise.all([
    startTestKiln({
      env: {
        KILN_PUBLIC_URL: base,
        OPENAI_BASE_URL: `${fake.url}/v1`,
        OPENAI_API_KEY: "x",
        KILN_MODEL: "openai/fake-model",
        KILN_EGRESS_ALLOW: fake.url,
      },
    }),
    launchChromium(),
  ]);
  await kiln.app.listen({ port, host: "127.0.0.1" });
  expect((kiln.app.server.address() as AddressInfo).port).toBe(port);
  owner = await kiln.signup();
  org = uniqueSlug("org");
  const created = await owner.client.post("/api/orgs", { name: "E2E errors", slug: org });
  expect(created.statusCode).toBe(201);
  orgId = created.json().id;
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await kiln?.stop();
  await fake?.close();
});

const APP = `import { useState } from "react";

export function App() {
  const [armed, setArmed] = useState(true);
  return (
    <main>
      <h1>Error factory</h1>
      <button
        type="button"
        onClick={() => {
          setArmed(!armed);
          setTimeout(() => {
            throw new Error("kiln-e2e timeout boom");
          }, 0);
          Promise.reject(new Error("kiln-e2e rejected"));
          throw new TypeError("kiln-e2e click boom");
        }}
      >
        Break it
      </button>
    </main>
  );
}
`;

/** The app as a half-done edit leaves it: it works, but logs an error each time it mounts. */
const NOISY = APP.replace(
  'import { useState } from "react";',
  'import { useEffect, useState } from "react";',
).replace(
  "  const [armed, setArmed] = useState(true);",
  '  const [armed, setArmed] = useState(true);\n  useEffect(() => console.error("kiln-e2e mount noise"), []);',
);

it("collects a react-vite page's uncaught errors and the dev server's build errors", async () => {
  const created = await owner.client.post(`/api/orgs/${org}/projects`, {
    name: "Broken",
    template: "react-vite",
  });
  expect(created.statusCode).toBe(201);
  const { id: projectId, slug } = created.json() as { id: string; slug: string };
  const files = `/api/orgs/${org}/projects/${slug}/files/content`;
  expect((await owner.client.put(files, { path: "src/App.tsx", content: APP })).statusCode).toBe(200);

  const session = await owner.client.post(`/api/orgs/${org}/projects/${slug}/preview-session`);
  const link = new URL(session.json().url);
  link.port = String(port);
  const page = await browser.context.newPage();
  await page.goto(link.toString());
  await page.getByRole("heading", { name: "Error factory" }).waitFor({ timeout: 90_000 });
  expect(await page.evaluate("Boolean(window.__kilnErrors)")).toBe(true);

  await page.getByRole("button", { name: "Break it" }).click();
  const recent = () => kiln.services.previewErrors.recent(orgId, projectId);
  const has = (e: PreviewError[], kind: string, text: string) =>
    e.some((x) => x.source === "browser" && x.kind === kind && x.message.includes(text));
  await expect
    .poll(
      () => {
        const e = recent();
        return (
          ["click boom", "timeout boom"].every((t) => has(e, "error", t)) &&
          has(e, "unhandledrejection", "rejected")
        );
      },
      { timeout: 20_000 },
    )
    .toBe(true);
  const click = recent().find((e) => e.message.includes("click boom"))!;
  expect(click.message).toContain("TypeError");
  expect(click.detail).toContain("App.tsx");
  expect(click.url).toContain(`${slug}--${org}.localhost`);

  // A broken import: Vite logs it (and shows its overlay); the log side of recent() picks it up.
  const broken = APP.replace(
    'import { useState } from "react";',
    'import { useState } from "react";\nimport "./missing-module";',
  );
  expect((await owner.client.put(files, { path: "src/App.tsx", content: broken })).statusCode).toBe(200);
  await page.reload();
  await expect
    .poll(() => recent().some((e) => e.source === "server" && e.message.includes("missing-module")), {
      timeout: 30_000,
    })
    .toBe(true);
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, "preview-errors.png") });

  const api = await owner.client.get(`/api/orgs/${org}/projects/${slug}/runtime/errors`);
  expect(api.statusCode).toBe(200);
  const messages = api.json().errors.map((e: PreviewError) => `${e.source}: ${e.message}`);
  process.stdout.write(`[e2e] preview errors:\n  ${messages.join("\n  ")}\n`);
  await page.close();
}, 150_000);

let studioUser: string | undefined;

/** Signs a new user up in the studio the first time (the browser keeps the session); returns the org's slug. */
async function signUp(page: Page, name: string): Promise<string> {
  if (studioUser) {
    await page.goto(`${base}/${studioUser}`);
    return studioUser;
  }
  studioUser = await signUpAs(page, name);
  return studioUser;
}

async function signUpAs(page: Page, name: string): Promise<string> {
  const email = `${name.toLowerCase()}-${Date.now().toString(36)}@example.com`;
  await page.goto(`${base}/signup`);
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("correct horse battery");
  await page.getByRole("button", { name: "Create account" }).click();
  await enterMailedCode(page, kiln, email);
  await page.getByRole("heading", { name: "Projects" }).waitFor();
  return new URL(page.url()).pathname.split("/")[1]!;
}

/** The fields of the answers used here: a created project's, a file's. */
interface Answer {
  id: string;
  orgId: string;
  slug: string;
  content: string;
}

/** The studio's API as the signed-in page calls it (its session cookie and CSRF token). */
async function call(page: Page, method: string, url: string, body?: unknown): Promise<Answer> {
  const csrf = (await browser.context.cookies(base)).find((c) => c.name === "kiln_csrf")?.value ?? "";
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
      return res.status === 204 ? null : res.json();
    },
    { method, url, body, csrf: decodeURIComponent(csrf) },
  ) as Promise<Answer>;
}

it("holds errors while the agent works, offers a fix once its turn ended, and clears them when the page recovers", async () => {
  const page = await browser.context.newPage();
  await page.setViewportSize({ width: 1440, height: 900 });
  const studioOrg = await signUp(page, "Hold");
  const created = await call(page, "POST", `/api/orgs/${studioOrg}/projects`, {
    name: "Flaky",
    template: "react-vite",
  });
  const api = `/api/orgs/${studioOrg}/projects/${created.slug}`;
  await call(page, "PUT", `${api}/files/content`, { path: "src/App.tsx", content: APP });
  await page.goto(`${base}/${studioOrg}/${created.slug}`);
  const preview = page.frameLocator('iframe[title="App preview"]');
  await preview.getByRole("heading", { name: "Error factory" }).waitFor({ timeout: 90_000 });
  const banner = page.getByRole("alert", { name: "Preview errors" });
  const recent = () => kiln.services.previewErrors.recent(created.orgId, created.id);
  onTestFailed(async () => {
    await page
      .screenshot({ path: path.join(os.tmpdir(), "kiln-preview-errors-failure.png") })
      .catch(() => {});
    process.stdout.write(`[e2e] errors at the failure: ${JSON.stringify(recent())}\n`);
  });

  // A turn runs; meanwhile the app is edited into a state that logs an error on every load. Nothing is
  // offered while the agent is still at work.
  const composer = page.getByLabel("Message the agent");
  await composer.fill("a slow answer please");
  await composer.press("Enter");
  const chat = page.getByRole("region", { name: "Chat" });
  const turn = chat.locator("li[data-role=assistant]").first();
  await expect.poll(() => turn.getAttribute("data-status"), { timeout: 20_000 }).toBe("running");
  await call(page, "PUT", `${api}/files/content`, { path: "src/App.tsx", content: NOISY });
  await expect
    .poll(() => recent().some((e) => e.message.includes("mount noise")), { timeout: 20_000 })
    .toBe(true);
  for (let i = 0; i < 8; i++) {
    expect(await banner.count()).toBe(0);
    await page.waitForTimeout(500);
  }
  expect(await turn.getAttribute("data-status")).toBe("running");

  // The turn ends and the error is still there: now the fix is offered.
  await expect.poll(() => turn.getAttribute("data-status"), { timeout: 60_000 }).toBe("completed");
  await banner.getByText("mount noise").waitFor({ timeout: 20_000 });
  await banner.getByRole("button", { name: "Fix with agent" }).waitFor();
  await page.screenshot({ path: path.join(SCREENSHOTS, "preview-errors-after-turn.png") });

  // Fixed; then a click throws once. The page reloads and works: its old errors are history, the banner goes.
  const fixed = APP.replace("Error factory", "Fixed factory");
  await call(page, "PUT", `${api}/files/content`, { path: "src/App.tsx", content: fixed });
  await preview.getByRole("heading", { name: "Fixed factory" }).waitFor({ timeout: 20_000 });
  await banner.waitFor({ state: "detached", timeout: 20_000 });
  await page.waitForTimeout(2_000);
  await preview.getByRole("button", { name: "Break it" }).click();
  // The click throws, rejects a promise and throws in a timer: all three reach Kiln, and the banner names the
  // newest (which of the rejection's task and the timer's runs first is the browser's choice).
  await expect
    .poll(
      () =>
        ["click boom", "rejected", "timeout boom"].every((m) =>
          recent().some((e) => e.source === "browser" && e.message.includes(`kiln-e2e ${m}`)),
        ),
      { timeout: 20_000 },
    )
    .toBe(true);
  await banner.getByText(/kiln-e2e (rejected|timeout boom|click boom)/).waitFor({ timeout: 15_000 });
  await page.getByRole("button", { name: "Reload preview" }).click();
  await preview.getByRole("heading", { name: "Fixed factory" }).waitFor({ timeout: 30_000 });
  await banner.waitFor({ state: "detached", timeout: 15_000 });
  expect(recent().filter((e) => e.source === "browser")).toEqual([]);
  await page.close();
}, 240_000);

it("lets a static page use localStorage in the studio's preview, and names a module script's error", async () => {
  const page = await browser.context.newPage();
  await page.setViewportSize({ width: 1440, height: 900 });
  const studioOrg = await signUp(page, "Static");
  const created = await call(page, "POST", `/api/orgs/${studioOrg}/projects`, {
    name: "Plain",
    template: "static",
  });
  const api = `/api/orgs/${studioOrg}/projects/${created.slug}`;
  await page.goto(`${base}/${studioOrg}/${created.slug}`);
  const preview = page.frameLocator('iframe[title="App preview"]');
  await preview.getByRole("heading", { name: "Hello, static web" }).waitFor({ timeout: 90_000 });

  // The template's theme switch keeps its choice in localStorage: it works inside the iframe.
  await preview.getByRole("button", { name: "Switch to dark" }).click();
  await preview.getByRole("button", { name: "Switch to light" }).waitFor({ timeout: 5_000 });
  await expect
    .poll(() => kiln.services.previewErrors.recent(created.orgId, created.id), { timeout: 3_000 })
    .toEqual([]);

  // A module script throws a DOMException: the banner says what it was.
  const script = await call(page, "GET", `${api}/files/content?path=script.js`);
  await call(page, "PUT", `${api}/files/content`, {
    path: "script.js",
    content: `${script.content}\nthrow new DOMException("kiln-e2e storage denied", "SecurityError");\n`,
  });
  await page.getByRole("button", { name: "Reload preview" }).click();
  const banner = page.getByRole("alert", { name: "Preview errors" });
  await banner.getByText("SecurityError: kiln-e2e storage denied").waitFor({ timeout: 20_000 });
  expect(await banner.textContent()).not.toMatch(/Uncaught\s*$/);
  await page.screenshot({ path: path.join(SCREENSHOTS, "preview-errors-static.png") });
  await page.close();
}, 180_000);
