/**
 * The studio on a phone (390×844, touch), in a real browser against a real Kiln whose model is the scripted
 * fake provider: sign up, create a project, chat with the agent, see the app it built in the preview, open
 * the board — one pane at a time with the tab bar below, the header's links in a menu, and no page wider
 * than the screen. Screenshots go to e2e/screenshots/phone-*.png.
 */
import { scenarios } from "@kiln/fake-provider";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { TestKiln } from "../packages/server/src/testing/harness.ts";
import type { Browser } from "./chromium.ts";
import { type Studio, shot, shotOnFailure, startStudio } from "./studio-setup.ts";
import { enterMailedCode } from "./verify-email.ts";

const PASSWORD = "correct horse battery";
const WIDTH = 390;

let studio: Studio;
let kiln: TestKiln;
let browser: Browser;
let base: string;

beforeAll(async () => {
  studio = await startStudio({
    model: { responder: scenarios["build-counter-app"]!() },
    screen: { viewport: { width: WIDTH, height: 844 }, isMobile: true, hasTouch: true },
  });
  ({ kiln, browser, base } = studio);
}, 120_000);

afterAll(() => studio?.close());

/** Nothing on the page is wider than the phone: no sideways scrolling of the whole page. */
async function fitsTheScreen(page: Page, where: string) {
  await page.waitForLoadState("domcontentloaded");
  const width = await page.evaluate("document.documentElement.scrollWidth");
  expect(width, `${where} is ${width}px wide`).toBeLessThanOrEqual(WIDTH);
}

it("signs up, creates a project, chats, previews and opens the board on a phone", async () => {
  const page = await browser.context.newPage();
  shotOnFailure(page, "phone");
  const errors: string[] = [];
  page.on("pageerror", (err) => {
    if (!err.stack?.includes("counter-app--")) errors.push(err.message);
  });

  // Sign up.
  await page.goto(`${base}/signup`);
  await page.getByRole("heading", { name: "Create your Kiln account" }).waitFor();
  await fitsTheScreen(page, "sign-up");
  const email = `pia-${Date.now().toString(36)}@example.com`;
  await page.getByLabel("Name").fill("Pia Phone");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).tap();
  await enterMailedCode(page, kiln, email);
  await page.getByRole("heading", { name: "Projects" }).waitFor();
  const org = new URL(page.url()).pathname.split("/")[1]!;
  await fitsTheScreen(page, "first screen");

  // The header's page links do not fit: a menu has them.
  const header = page.getByRole("banner");
  await header.getByRole("button", { name: "Menu", exact: true }).tap();
  await page.getByRole("menuitem", { name: "Usage" }).waitFor();
  await page.getByRole("menuitem", { name: "Settings" }).tap();
  await page.getByRole("heading", { name: "Settings" }).waitFor();
  await fitsTheScreen(page, "settings");
  for (const tab of ["members", "models", "workers"]) {
    await page.goto(`${base}/${org}/settings?tab=${tab}`);
    await page.getByRole("tab", { selected: true }).waitFor();
    await fitsTheScreen(page, `settings (${tab})`);
  }
  await page.goto(`${base}/account`);
  await page.getByRole("heading", { name: "Account", exact: true }).waitFor();
  await fitsTheScreen(page, "account");
  await page.goto(`${base}/${org}/usage`);
  await page.getByRole("heading", { name: "Usage" }).waitFor();
  await fitsTheScreen(page, "usage");

  // A react-vite project, from the dialog.
  await page.goto(`${base}/${org}`);
  await page.getByRole("button", { name: "New project" }).tap();
  const create = page.getByRole("dialog", { name: "New project" });
  await create.getByLabel("Project name").fill("Counter app");
  await create.locator("[data-template=react-vite]").tap();
  await fitsTheScreen(page, "new project dialog");
  await create.getByRole("button", { name: "Create project" }).tap();
  await page.waitForURL(`${base}/${org}/counter-app`);

  // The workspace opens on its chat, one pane, with the tab bar below.
  const panes = page.getByRole("navigation", { name: "Workspace panes" });
  await panes.waitFor();
  const chat = page.getByRole("region", { name: "Chat" });
  const preview = page.getByRole("region", { name: "Preview" });
  const files = page.getByRole("region", { name: "Files" });
  await chat.waitFor();
  expect(await preview.isVisible()).toBe(false);
  expect(await files.isVisible()).toBe(false);
  await fitsTheScreen(page, "workspace");

  // Chat: the agent answers and builds the counter.
  const composer = page.getByLabel("Message the agent");
  await composer.fill("add a counter");
  await composer.press("Enter");
  await chat.locator("[data-tool=write_file][data-state=done]").first().waitFor({ timeout: 30_000 });
  await chat.getByText(/^Done! I added/).waitFor({ timeout: 30_000 });
  await expect
    .poll(() => chat.locator("li[data-role=assistant]").first().getAttribute("data-status"), {
      timeout: 30_000,
    })
    .toBe("completed");
  await fitsTheScreen(page, "workspace chat");
  await shot(page, "phone-workspace-chat");

  // Preview: the app the agent built, in the preview's iframe.
  await panes.getByRole("button", { name: "Preview" }).tap();
  await preview.waitFor();
  expect(await chat.isVisible()).toBe(false);
  const app = page.frameLocator('iframe[title="App preview"]');
  await app.getByRole("button", { name: "Count: 0" }).waitFor({ timeout: 60_000 });
  // Vite may still reload the page once after the agent's write (a dependency it optimised late), which
  // starts the counter again at 0: tap until the count shows, as a person would.
  await expect
    .poll(
      async () => {
        const zero = app.getByRole("button", { name: "Count: 0" });
        if (await zero.isVisible()) await zero.tap({ timeout: 5_000 }).catch(() => {});
        return app.getByRole("button", { name: "Count: 1" }).isVisible();
      },
      { timeout: 30_000, interval: 500 },
    )
    .toBe(true);
  await fitsTheScreen(page, "workspace preview");
  await shot(page, "phone-workspace-preview");

  // Code: the files and the editor.
  await panes.getByRole("button", { name: "Code" }).tap();
  await files.getByRole("treeitem", { name: "src" }).waitFor();
  expect(await preview.isVisible()).toBe(false);
  await fitsTheScreen(page, "workspace code");

  // The board, and back to the chat with the turn still there.
  await panes.getByRole("button", { name: "Board" }).tap();
  await page.getByRole("heading", { name: "Board" }).waitFor();
  await page.getByRole("button", { name: "New task" }).waitFor();
  expect(await panes.getByRole("button", { name: "Board" }).getAttribute("aria-current")).toBe("page");
  await fitsTheScreen(page, "board");
  await shot(page, "phone-board");
  await panes.getByRole("button", { name: "Chat" }).tap();
  await chat.getByText(/^Done! I added/).waitFor();

  // The workspace's menu has what the header has no room for.
  await page.getByRole("banner").getByRole("button", { name: "Menu", exact: true }).tap();
  await page.getByRole("menuitem", { name: "Restart the dev server" }).waitFor();
  await page.getByRole("menuitem", { name: "All projects" }).tap();

  // The dashboard: the project's card fits the width.
  await page.getByRole("link", { name: "Open Counter app" }).waitFor();
  const card = await page.getByRole("link", { name: "Open Counter app" }).boundingBox();
  expect(card!.x).toBeGreaterThanOrEqual(0);
  expect(card!.x + card!.width).toBeLessThanOrEqual(WIDTH);
  await fitsTheScreen(page, "dashboard");
  await shot(page, "phone-dashboard");

  // Log out: the log-in page fits too.
  await page.getByRole("button", { name: "Account menu" }).tap();
  await page.getByRole("menuitem", { name: "Log out" }).tap();
  await page.getByRole("heading", { name: "Log in to Kiln" }).waitFor();
  await fitsTheScreen(page, "log-in");
  expect(errors).toEqual([]);
  await page.close();
}, 240_000);
