/**
 * The studio from the keyboard, in a real browser against a real Kiln: a dialog takes focus when it opens,
 * keeps it through any number of Tabs, gives it back to its opener on Escape; the chat box has the keyboard
 * when a workspace opens; every control Tab reaches shows a ring; `?` lists the shortcuts.
 */
import path from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { TestKiln } from "../packages/server/src/testing/harness.ts";
import type { Browser } from "./chromium.ts";
import { SCREENSHOTS, type Studio, shotOnFailure, startStudio } from "./studio-setup.ts";
import { enterMailedCode } from "./verify-email.ts";

const PASSWORD = "correct horse battery";

let studio: Studio;
let kiln: TestKiln;
let browser: Browser;
let base: string;

beforeAll(async () => {
  studio = await startStudio({
    model: { responder: () => ({ text: "Noted." }) },
    screen: { viewport: { width: 1280, height: 800 } },
  });
  ({ kiln, browser, base } = studio);
}, 120_000);

afterAll(() => studio?.close());

/** What has the keyboard: its tag, accessible label or text, and whether it draws a ring. */
interface Focused {
  tag: string;
  type: string | null;
  name: string;
  outlineStyle: string;
  outlineWidth: string;
}
const focused = (page: Page) =>
  page.evaluate(`(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return null;
    const style = getComputedStyle(el);
    return {
      tag: el.tagName,
      type: el.getAttribute("type"),
      name: el.getAttribute("aria-label") ?? el.textContent?.trim() ?? "",
      outlineStyle: style.outlineStyle,
      outlineWidth: style.outlineWidth,
    };
  })()`) as Promise<Focused | null>;

const hasRing = (f: Focused | null) =>
  !!f && f.outlineStyle !== "none" && Number.parseFloat(f.outlineWidth) > 0;

/** Whether the keyboard is on a control inside the open dialog. */
const focusIsInside = (page: Page) =>
  page.evaluate(
    `(() => { const d = document.querySelector("dialog[open]"); const a = document.activeElement;
      return !!d && !!a && a !== d && d.contains(a); })()`,
  ) as Promise<boolean>;

it("keeps focus in dialogs, starts a workspace in the chat box, rings what Tab reaches, lists shortcuts on ?", async () => {
  const page = await browser.context.newPage();
  shotOnFailure(page, "keyboard");

  await page.goto(`${base}/signup`);
  const email = `kai-${Date.now().toString(36)}@example.com`;
  await page.getByLabel("Name").fill("Kai Keys");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await enterMailedCode(page, kiln, email);
  await page.getByRole("heading", { name: "Projects" }).waitFor();
  const org = new URL(page.url()).pathname.split("/")[1]!;

  // "New project" from the keyboard: the dialog takes focus and keeps it through twenty Tabs.
  const newProject = page.getByRole("button", { name: "New project" }).first();
  await newProject.focus();
  await page.keyboard.press("Enter");
  const dialog = page.getByRole("dialog", { name: "New project" });
  await dialog.waitFor();
  await expect.poll(() => focused(page)).toMatchObject({ tag: "INPUT" });
  expect(await focusIsInside(page)).toBe(true);
  const seen = new Set<string>();
  for (let i = 0; i < 20; i++) {
    await page.keyboard.press(i % 5 === 4 ? "Shift+Tab" : "Tab");
    expect(await focusIsInside(page), `after Tab ${i + 1}`).toBe(true);
    const f = await focused(page);
    seen.add(`${f?.tag}:${f?.type}:${f?.name}`);
  }
  // It went round the dialog's controls, not stuck on one.
  expect(seen.size).toBeGreaterThan(2);

  // Escape closes it and the button that opened it has the keyboard again, with its ring.
  await page.keyboard.press("Escape");
  await dialog.waitFor({ state: "hidden" });
  await expect.poll(async () => (await focused(page))?.name).toBe("New project");
  expect(hasRing(await focused(page))).toBe(true);

  // Create a project; its workspace opens with the chat box focused.
  await page.keyboard.press("Enter");
  await dialog.getByLabel("Project name").fill("Keys app");
  await dialog.locator("[data-template=static]").click();
  await dialog.getByRole("button", { name: "Create project" }).click();
  await page.waitForURL(`${base}/${org}/keys-app`);
  await expect.poll(async () => (await focused(page))?.name, { timeout: 20_000 }).toBe("Message the agent");

  // `?` while typing is a question mark in the message, not the shortcut list.
  await page.keyboard.type("why?");
  expect(await page.getByLabel("Message the agent").inputValue()).toBe("why?");
  expect(await page.getByRole("dialog", { name: "Keyboard shortcuts" }).isVisible()).toBe(false);

  // Tab on to the chat's buttons: each shows a focus ring.
  let button: Focused | null = null;
  for (let i = 0; i < 10 && button?.tag !== "BUTTON"; i++) {
    await page.keyboard.press("Tab");
    button = await focused(page);
    if (button) expect(hasRing(button), `${button.tag} "${button.name}" has no ring`).toBe(true);
  }
  expect(button?.tag).toBe("BUTTON");

  // A menu opened from the keyboard: its items show the ring; Escape gives focus back to its button.
  const account = page.getByRole("button", { name: "Account menu" });
  await account.focus();
  await page.keyboard.press("Enter");
  await page.getByRole("menu", { name: "Account" }).waitFor();
  const item = await focused(page);
  expect(item?.name).toContain("Account");
  expect(hasRing(item)).toBe(true);

  // Its "Keyboard shortcuts" (below "Instance admin", which the instance's first account also has) opens
  // the list; Escape closes it and focus is back on the menu's button.
  await page.keyboard.press("ArrowDown");
  expect((await focused(page))?.name).toContain("Instance admin");
  await page.keyboard.press("ArrowDown");
  expect((await focused(page))?.name).toContain("Keyboard shortcuts");
  await page.keyboard.press("Enter");
  const shortcuts = page.getByRole("dialog", { name: "Keyboard shortcuts" });
  await shortcuts.waitFor();
  expect(await focusIsInside(page)).toBe(true);
  await page.keyboard.press("Escape");
  await shortcuts.waitFor({ state: "hidden" });
  await expect.poll(async () => (await focused(page))?.name).toBe("Account menu");

  // `?` outside a text field opens the list of the studio's shortcuts.
  await page.keyboard.press("?");
  await shortcuts.waitFor();
  for (const what of ["Save the file", "Open a file by name", "Send the message", "Show this list"])
    await shortcuts.getByText(what).waitFor();
  await page.screenshot({ path: path.join(SCREENSHOTS, "keyboard-shortcuts.png") });
  await page.keyboard.press("Escape");
  await shortcuts.waitFor({ state: "hidden" });
  await page.close();
}, 180_000);
