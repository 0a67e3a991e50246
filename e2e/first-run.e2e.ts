/**
 * A newcomer's first minutes, in a real browser against a real Kiln whose model is the scripted fake provider:
 * the prompt-first start (sign up, say what to build, land in a workspace whose preview shows what the agent
 * built, choosing nothing else), and forms that say what is wrong next to the field instead of "invalid body".
 * Screenshots go to e2e/screenshots/.
 */
import { mkdir } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  type FakeProvider,
  HABIT_TRACKER_SUMMARY,
  lastUserText,
  readConversation,
  scenarios,
  startFakeProvider,
} from "@kiln/fake-provider";
import type { Locator, Page } from "playwright-core";
import { afterAll, beforeAll, expect, it, onTestFailed } from "vitest";
import { freePort } from "../packages/server/src/testing/free-port.ts";
import { startTestKiln, type TestKiln } from "../packages/server/src/testing/harness.ts";
import { type Browser, launchChromium } from "./chromium.ts";
import { inPreview, previewSettled } from "./preview-frame.ts";
import { signUpInBrowser } from "./studio-setup.ts";
import { enterMailedCode } from "./verify-email.ts";

const SCREENSHOTS = path.join(path.dirname(fileURLToPath(import.meta.url)), "screenshots");
const PASSWORD = "correct horse battery";
const PROMPT = "a habit tracker with a streak counter";

let kiln: TestKiln;
let fake: FakeProvider;
let browser: Browser;
let base: string;

beforeAll(async () => {
  const habits = scenarios["build-habit-tracker"]!();
  fake = await startFakeProvider({
    responder: (request, index) =>
      /habit tracker/i.test(lastUserText(readConversation(request)))
        ? habits(request, index)
        : { text: "Noted." },
  });
  const port = await freePort();
  base = `http://localhost:${port}`;
  [kiln, browser] = await Promise.all([
    startTestKiln({
      env: {
        KILN_PUBLIC_URL: base,
        OPENAI_BASE_URL: `${fake.url}/v1`,
        OPENAI_API_KEY: "x",
        KILN_MODEL: "openai/fake-model",
      },
    }),
    launchChromium(),
  ]);
  await kiln.app.listen({ port, host: "127.0.0.1" });
  await mkdir(SCREENSHOTS, { recursive: true });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await kiln?.stop();
  await fake?.close();
});

const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`) });
const uniqueEmail = (prefix: string) =>
  `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}@example.com`;

async function newPage(): Promise<Page> {
  const page = await browser.context.newPage();
  await page.setViewportSize({ width: 1280, height: 800 });
  onTestFailed(async () => {
    const file = path.join(os.tmpdir(), `kiln-first-run-e2e-failure-${Date.now()}.png`);
    await page.screenshot({ path: file }).catch(() => {});
    process.stdout.write(`[e2e] screenshot at the failure: ${file}\n`);
  });
  return page;
}

/** The message shown inside the field labelled `label` (its container: label, control, message). */
const fieldMessage = (scope: Page | Locator, label: string) =>
  scope.getByLabel(label, { exact: true }).locator("xpath=..").getByRole("alert");

it("takes a brand-new user from sign-up to a built habit tracker by describing it on the first screen", async () => {
  const page = await newPage();
  const email = uniqueEmail("hana");
  await page.goto(`${base}/signup`);
  await page.getByLabel("Name").fill("Hana Newcomer");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await enterMailedCode(page, kiln, email);

  // The first screen asks what to build; the box has the keyboard. "New project" is still there.
  const box = page.getByRole("textbox", { name: "What do you want to build?" });
  await box.waitFor();
  const org = new URL(page.url()).pathname.split("/")[1]!;
  await expect
    .poll(() => page.evaluate("document.activeElement?.getAttribute('aria-labelledby')"))
    .toBe(await box.getAttribute("aria-labelledby"));
  await page.getByRole("button", { name: "New project" }).waitFor();
  await page.keyboard.type(PROMPT);
  await shot(page, "first-screen");
  await page.keyboard.press("Enter");

  // The workspace of a project named after the prompt, its chat on the prompt, the preview on what was built.
  await page.waitForURL(`${base}/${org}/habit-tracker`, { timeout: 60_000 });
  const chat = page.getByRole("region", { name: "Chat" });
  await chat.locator("li[data-role=user]").getByText(PROMPT).waitFor();
  await chat.getByText(HABIT_TRACKER_SUMMARY.slice(0, 30)).waitFor({ timeout: 60_000 });
  await previewSettled(page, chat.locator("li[data-role=assistant]").last());
  const preview = page.frameLocator('iframe[title="App preview"]');
  await inPreview(page, preview.getByRole("heading", { name: "Habit tracker" }).waitFor({ timeout: 90_000 }));
  await preview.getByText("Best streak: 3 days").waitFor();
  await preview.getByRole("button", { name: /Mark done · 0 day streak/ }).click();
  await preview.getByRole("button", { name: /Done · 1 day streak/ }).waitFor();
  await shot(page, "workspace-from-prompt");

  // The dashboard lists it, named and described by the prompt.
  await page.goto(`${base}/${org}`);
  await page.getByRole("link", { name: "Open Habit tracker" }).waitFor();
});

it("a reload asked for while the preview is still signing in waits for it: the app, never 'private'", async () => {
  // Signed out of the first test's account: this one signs up anew.
  await browser.context.clearCookies();
  const page = await newPage();
  const { org } = await signUpInBrowser(page, { kiln, base }, "Rae Reload");
  await page.getByRole("button", { name: "New project" }).click();
  const create = page.getByRole("dialog", { name: "New project" });
  await create.getByLabel("Project name").fill("Held");
  await create.locator("[data-template=static]").click();
  // The preview's sign-in hand-off is held until the reload below has been asked for: the turn that ends
  // while the hand-off is on its way, as it does on a loaded machine.
  let release!: () => void;
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  let handoffAsked!: () => void;
  const asked = new Promise<void>((resolve) => {
    handoffAsked = resolve;
  });
  await page.route("**/__kiln/auth?**", async (route) => {
    handoffAsked();
    await held;
    await route.continue();
  });
  await create.getByRole("button", { name: "Create project" }).click();
  await page.waitForURL(`${base}/${org}/held`);
  await asked;
  const reload = page.getByRole("button", { name: "Reload preview" });
  await expect.poll(() => reload.isEnabled()).toBe(true);
  await reload.click();
  release();
  const preview = page.frameLocator('iframe[title="App preview"]');
  await inPreview(
    page,
    preview.getByRole("heading", { name: "Hello, static web" }).waitFor({ timeout: 30_000 }),
  );
  const busy = page.getByRole("region", { name: "Preview" }).locator("[aria-busy=true]");
  await expect.poll(() => busy.count(), { timeout: 30_000 }).toBe(0);
  await inPreview(
    page,
    preview.getByRole("heading", { name: "Hello, static web" }).waitFor({ timeout: 5_000 }),
  );
});

it("says what is wrong next to the field: sign-up's password, create-org's name and URL name (no console error)", async () => {
  const page = await newPage();
  const consoleErrors: string[] = [];
  page.on("console", (msg) => {
    // A refused request is logged by Chromium as a failed load; that is the server answering, not a bug.
    if (msg.type() === "error" && !msg.text().startsWith("Failed to load resource"))
      consoleErrors.push(msg.text());
  });

  // Too short a password: the server's reason sits under the password, not "invalid body" on the form.
  await browser.context.clearCookies();
  const email = uniqueEmail("ivo");
  await page.goto(`${base}/signup`);
  await page.getByLabel("Name").fill("Ivo Errors");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("short");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect.poll(() => fieldMessage(page, "Password").textContent()).toBe("at least 8 characters");
  expect(await page.getByText("invalid body").count()).toBe(0);
  await shot(page, "signup-field-error");

  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await enterMailedCode(page, kiln, email);
  await page.getByRole("heading", { name: "Projects" }).waitFor();

  // Create an organization: the URL-name pattern compiles (no console error) and each refused field says why.
  consoleErrors.length = 0;
  await page.getByRole("button", { name: /workspace/ }).click();
  await page.getByRole("menuitem", { name: "New organization…" }).click();
  const dialog = page.getByRole("dialog", { name: "Create an organization" });
  await dialog.getByLabel("Name", { exact: true }).fill("A".repeat(101));
  await dialog.getByLabel("URL name").fill("acme--labs");
  await dialog.getByRole("button", { name: "Create organization" }).click();
  await expect
    .poll(() => fieldMessage(dialog, "URL name").textContent())
    .toBe("no double hyphen and no trailing hyphen");
  expect(await fieldMessage(dialog, "Name").textContent()).toMatch(/100/);
  expect(await dialog.getByText("invalid body").count()).toBe(0);
  await shot(page, "create-org-field-errors");

  // Fixed, it goes through.
  await dialog.getByLabel("Name", { exact: true }).fill("Acme Labs");
  await dialog.getByLabel("URL name").fill(`acme-${Date.now().toString(36)}`);
  await dialog.getByRole("button", { name: "Create organization" }).click();
  await dialog.waitFor({ state: "hidden" });
  expect(consoleErrors).toEqual([]);
});
