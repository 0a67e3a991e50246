/**
 * The light theme: with the system set to light the studio is light from the first paint (before its script
 * runs), on the auth pages, the dashboard, the workspace (chat, files, Monaco), the board, settings and
 * dialogs. The account menu switches to Dark, which a reload keeps; back on System it follows the OS as it
 * changes. Screenshots of the light screens go to e2e/screenshots/theme-light-*.png.
 */
import { mkdir } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { currentTurn, type FakeProvider, readConversation, startFakeProvider } from "@kiln/fake-provider";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, expect, it, onTestFailed } from "vitest";
import { freePort } from "../packages/server/src/testing/free-port.ts";
import { startTestKiln, type TestKiln } from "../packages/server/src/testing/harness.ts";
import { type Browser, launchChromium } from "./chromium.ts";

const SCREENSHOTS = path.join(path.dirname(fileURLToPath(import.meta.url)), "screenshots");

let kiln: TestKiln;
let fake: FakeProvider;
let browser: Browser;
let base: string;

beforeAll(async () => {
  fake = await startFakeProvider({
    responder: (request) =>
      currentTurn(readConversation(request)).some((m) => m.toolResults.length > 0)
        ? { text: "Added **NOTES.md** with a first line." }
        : {
            toolCalls: [
              { name: "write_file", arguments: { path: "NOTES.md", content: "# Notes\n\nFirst line.\n" } },
            ],
          },
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

/**
 * The lightness (0 dark … 1 light) of an element's computed background, through a canvas so any CSS colour
 * syntax (oklch, rgb) compares; transparent backgrounds count as their nearest painted ancestor's.
 */
async function lightness(page: Page, selector = "body"): Promise<number> {
  return page.evaluate(`(() => {
    let el = document.querySelector(${JSON.stringify(selector)});
    let color = "rgba(0, 0, 0, 0)";
    while (el) {
      color = getComputedStyle(el).backgroundColor;
      if (color !== "rgba(0, 0, 0, 0)" && color !== "transparent") break;
      el = el.parentElement;
    }
    const ctx = document.createElement("canvas").getContext("2d");
    ctx.fillStyle = color;
    ctx.fillRect(0, 0, 1, 1);
    const [r, g, b] = ctx.getImageData(0, 0, 1, 1).data;
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
  })()`);
}

const htmlClass = (page: Page) => page.evaluate("document.documentElement.className");

it("is light with a light system, from the first paint, on every screen; Dark sticks; System follows", async () => {
  const user = await kiln.signup({ name: "Lux Light" });
  const org = user.personalOrg.slug;
  const created = await user.client.post(`/api/orgs/${org}/projects`, { name: "Lamp", template: "static" });
  expect(created.statusCode).toBe(201);
  const project = created.json().slug as string;

  const page = await browser.context.newPage();
  await page.setViewportSize({ width: 1440, height: 900 });
  onTestFailed(async () => {
    const file = path.join(os.tmpdir(), `kiln-theme-e2e-failure-${Date.now()}.png`);
    await page.screenshot({ path: file }).catch(() => {});
    process.stdout.write(`[e2e] screenshot at the failure: ${file}\n`);
  });
  const errors: string[] = [];
  page.on("pageerror", (err) => errors.push(err.message));
  await page.emulateMedia({ colorScheme: "light" });

  // First paint: with the studio's script held back, the page is already light (no dark flash).
  await page.route("**/assets/*.js", (route) => route.abort());
  await page.goto(`${base}/login`);
  expect(await htmlClass(page)).toBe("light");
  expect(await lightness(page)).toBeGreaterThan(0.85);
  await page.unroute("**/assets/*.js");

  // The log-in page, then the dashboard.
  await page.goto(`${base}/login`);
  await page.getByRole("heading", { name: "Log in to Kiln" }).waitFor();
  expect(await lightness(page, "form")).toBeGreaterThan(0.9);
  await shot(page, "theme-light-login");
  await page.getByLabel("Email").fill(user.user.email);
  await page.getByLabel("Password").fill(user.password);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("heading", { name: "Projects" }).waitFor();
  expect(await lightness(page)).toBeGreaterThan(0.85);
  expect(await lightness(page, "header")).toBeGreaterThan(0.9);
  await shot(page, "theme-light-dashboard");

  // A dialog.
  await page.getByRole("button", { name: "New project" }).click();
  const dialog = page.getByRole("dialog", { name: "New project" });
  await dialog.getByLabel("Project name").waitFor();
  expect(await lightness(page, "dialog[open]")).toBeGreaterThan(0.9);
  await shot(page, "theme-light-dialog");
  await page.keyboard.press("Escape");

  // The workspace: a chat turn, a file open in Monaco, then the terminal below (it stays dark in light
  // chrome); the preview stays closed: no dev server needed.
  await page.evaluate(
    `localStorage.setItem("kiln.workspace-ui", JSON.stringify({ state: { previewOpen: false }, version: 0 }))`,
  );
  await page.goto(`${base}/${org}/${project}`);
  const composer = page.getByLabel("Message the agent");
  await composer.fill("add a notes file");
  await composer.press("Enter");
  const chat = page.getByRole("region", { name: "Chat" });
  await chat.getByText("with a first line").waitFor({ timeout: 60_000 });
  await page.getByRole("treeitem", { name: "index.html" }).click();
  await page.locator(".monaco-editor").waitFor();
  expect(await lightness(page, ".monaco-editor .monaco-editor-background")).toBeGreaterThan(0.95);
  expect(await lightness(page, "section[aria-label=Files]")).toBeGreaterThan(0.9);
  expect(await lightness(page, "section[aria-label=Chat]")).toBeGreaterThan(0.85);
  await page.getByRole("button", { name: "Toggle terminal (Ctrl+`)" }).click();
  await page.getByText("Connected", { exact: true }).waitFor({ timeout: 60_000 });
  expect(await lightness(page, "[role=tablist][aria-label='Bottom panel']")).toBeGreaterThan(0.9);
  await shot(page, "theme-light-workspace");

  // The board and settings.
  await page.goto(`${base}/${org}/${project}?view=board`);
  await page.getByRole("region", { name: "To do" }).waitFor();
  expect(await lightness(page, "section[aria-label='To do']")).toBeGreaterThan(0.9);
  await page.getByRole("button", { name: "New task" }).click();
  const newTask = page.getByRole("dialog", { name: "New task" });
  await newTask.getByLabel("Title").fill("Write the release notes");
  await newTask.getByLabel("Description").fill("Add a **NOTES.md** with the `v1` notes.");
  await newTask.getByLabel("Labels").fill("docs");
  await newTask.getByRole("button", { name: "Create task" }).click();
  const drawer = page.getByRole("complementary", { name: "Task #1" });
  await drawer.getByTestId("task-description").waitFor();
  expect(await lightness(page, "aside[aria-label='Task #1']")).toBeGreaterThan(0.9);
  await shot(page, "theme-light-board");
  await page.goto(`${base}/${org}/settings`);
  await page.getByRole("heading", { name: "Settings" }).first().waitFor();
  expect(await lightness(page)).toBeGreaterThan(0.85);
  await shot(page, "theme-light-settings");

  // Dark from the account menu: at once, and after a reload, whatever the system says.
  await page.getByRole("button", { name: "Account menu" }).click();
  await page.getByRole("menuitemradio", { name: "Dark" }).click();
  expect(await htmlClass(page)).toBe("dark");
  expect(await lightness(page)).toBeLessThan(0.2);
  await page.reload();
  await page.getByRole("button", { name: "Account menu" }).waitFor();
  expect(await htmlClass(page)).toBe("dark");
  expect(await lightness(page)).toBeLessThan(0.2);
  await page.getByRole("button", { name: "Account menu" }).click();
  expect(await page.getByRole("menuitemradio", { name: "Dark" }).getAttribute("aria-checked")).toBe("true");

  // Back on System: the studio follows the OS while it changes, without a reload.
  await page.getByRole("menuitemradio", { name: "System" }).click();
  expect(await htmlClass(page)).toBe("light");
  await page.emulateMedia({ colorScheme: "dark" });
  await expect.poll(() => htmlClass(page)).toBe("dark");
  expect(await lightness(page)).toBeLessThan(0.2);
  await page.emulateMedia({ colorScheme: "light" });
  await expect.poll(() => htmlClass(page)).toBe("light");
  expect(errors).toEqual([]);
  await page.close();
}, 300_000);
