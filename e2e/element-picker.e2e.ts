/**
 * The element picker against a real Kiln, a real react-vite dev server and the scripted fake provider: the
 * agent builds a counter; "Select element" in the preview, a click on the counter's button, and the chat
 * composer shows it as a chip with its file and line (from the template's dev-only source annotation);
 * "make it bigger" goes to the model with that file and line in it. Then the same on a 390px phone.
 * Screenshots: e2e/screenshots/element-picker-*.png.
 */
import { COUNTER_PATH, COUNTER_SOURCE, lastUserText, readConversation, scenarios } from "@kiln/fake-provider";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type Studio, shot, shotOnFailure, signUpInBrowser, startStudio } from "./studio-setup.ts";

let studio: Studio;

beforeAll(async () => {
  studio = await startStudio({ model: { responder: scenarios["build-counter-app"]!() } });
}, 120_000);

afterAll(async () => {
  await studio?.close();
});

/** The line of the counter's `<button` in the file the agent wrote. */
const BUTTON_LINE = COUNTER_SOURCE.split("\n").findIndex((l) => l.includes("<button")) + 1;
const BUTTON_AT = `${COUNTER_PATH}:${BUTTON_LINE}`;

async function pickCounterButton(page: Page) {
  const preview = page.getByRole("region", { name: "Preview" });
  // No page on its way in: the one on screen is the one that picks.
  await expect.poll(() => preview.locator("[aria-busy=true]").count(), { timeout: 30_000 }).toBe(0);
  await preview.getByRole("button", { name: "Select element" }).click();
  await expect.poll(() => preview.getByRole("button", { name: /Stop selecting/ }).count()).toBe(1);
  const app = page.frameLocator('iframe[title="App preview"]');
  const button = app.getByRole("button", { name: /^Count: \d+$/ });
  await button.hover();
  await app.locator("[data-kiln=picker-highlight]").waitFor();
  await button.click();
}

it("picks the counter button and sends its file and line with the message", async () => {
  const { browser, base, fake } = studio;
  const page = await browser.context.newPage();
  await page.setViewportSize({ width: 1440, height: 900 });
  shotOnFailure(page, "element-picker");
  const { org } = await signUpInBrowser(page, studio, "Pia Picker");

  await page.goto(`${base}/${org}`);
  await page.getByRole("button", { name: "New project" }).click();
  const create = page.getByRole("dialog", { name: "New project" });
  await create.getByLabel("Project name").fill("Counter app");
  await create.locator("[data-template=react-vite]").click();
  await create.getByRole("button", { name: "Create project" }).click();
  await page.waitForURL(`${base}/${org}/counter-app`);
  const app = page.frameLocator('iframe[title="App preview"]');
  await app.getByRole("heading", { name: "Your app starts here" }).waitFor({ timeout: 60_000 });

  const composer = page.getByLabel("Message the agent");
  await composer.fill("add a counter");
  await composer.press("Enter");
  const chat = page.getByRole("region", { name: "Chat" });
  await expect
    .poll(() => chat.locator("li[data-role=assistant]").first().getAttribute("data-status"), {
      timeout: 60_000,
    })
    .toBe("completed");
  await app.getByRole("button", { name: "Count: 0" }).waitFor({ timeout: 30_000 });
  // The dev server marked the button with where it is written.
  expect(await app.getByRole("button", { name: "Count: 0" }).getAttribute("data-kiln-source")).toBe(
    `${BUTTON_AT}:5`,
  );

  // Select element: hovering highlights, the click picks and does not count.
  await pickCounterButton(page);
  const chip = chat.getByTestId("element-chip");
  await chip.waitFor();
  expect(await chip.textContent()).toMatch(new RegExp(`<button>\\s*“Count: 0”\\s*· ${BUTTON_AT}`));
  await app.getByRole("button", { name: "Count: 0" }).waitFor();
  await shot(page, "element-picker-desktop");

  // Removable: the × drops it; pick again.
  await chip.getByRole("button", { name: "Remove the selected element" }).click();
  await expect.poll(() => chip.count()).toBe(0);
  await pickCounterButton(page);
  await chip.waitFor();

  // The message carries it: the model's next request names the file and the line.
  const before = fake!.requests.length;
  await composer.fill("make it bigger");
  await composer.press("Enter");
  const askedNow = () =>
    fake!.requests
      .slice(before)
      .map((r) => lastUserText(readConversation(r)))
      .find((text) => text.includes("make it bigger"));
  await expect.poll(askedNow, { timeout: 30_000 }).toBeDefined();
  const asked = askedNow()!;
  expect(asked.startsWith("make it bigger")).toBe(true);
  expect(asked).toContain("<selected-element>");
  expect(asked).toContain(`source: ${BUTTON_AT}:5`);
  expect(asked).toContain('with text "Count: 0"');
  await expect.poll(() => chip.count()).toBe(0);
  await expect
    .poll(() => chat.locator("li[data-role=assistant]").nth(1).getAttribute("data-status"), {
      timeout: 60_000,
    })
    .toBe("completed");

  // A 390px phone: the preview pane, the picker, then the chat with the chip.
  await page.setViewportSize({ width: 390, height: 844 });
  const panes = page.getByRole("navigation", { name: "Workspace panes" });
  await panes.getByRole("button", { name: "Preview" }).click();
  await app.getByRole("button", { name: /Count: / }).waitFor({ timeout: 30_000 });
  await pickCounterButton(page);
  await panes.getByRole("button", { name: "Chat" }).click();
  await chip.waitFor();
  await shot(page, "element-picker-phone");
  await page.close();
});
