/**
 * A provider that throttles (issue #12): the first model call of a turn is answered 429 with retry-after,
 * the gateway waits and retries, and the chat says so ("Waiting for the provider, retry 1/… in 2 s") before
 * the answer streams in, instead of a silent pause. Screenshot: e2e/screenshots/chat-retry.png.
 */
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Browser } from "./chromium.ts";
import { SCREENSHOTS, type Studio, shotOnFailure, signUpInBrowser, startStudio } from "./studio-setup.ts";

const ANSWER = "Here is the answer, after the provider let me through.";

let studio: Studio;
let browser: Browser;
let base: string;

beforeAll(async () => {
  studio = await startStudio({
    model: {
      responder: (_request, index) =>
        index === 0
          ? { error: { status: 429, message: "Rate limit reached for requests", retryAfterSeconds: 2 } }
          : { text: ANSWER, chunkSize: 8, delayMs: 20 },
    },
  });
  ({ browser, base } = studio);
}, 120_000);

afterAll(() => studio?.close());

it("shows the provider's retry in the chat, then the answer", async () => {
  const page = await browser.context.newPage();
  await page.setViewportSize({ width: 1440, height: 900 });
  shotOnFailure(page, "chat-retry");
  const { org } = await signUpInBrowser(page, studio, "Rita Retry");
  await page.evaluate(() =>
    localStorage.setItem("kiln.workspace-ui", JSON.stringify({ state: { previewOpen: false }, version: 0 })),
  );
  await page.getByRole("button", { name: "New project" }).click();
  const create = page.getByRole("dialog", { name: "New project" });
  await create.getByLabel("Project name").fill("Throttled");
  await create.locator("[data-template=static]").click();
  await create.getByRole("button", { name: "Create project" }).click();
  await page.waitForURL(`${base}/${org}/throttled`);

  const composer = page.getByLabel("Message the agent");
  await composer.fill("what does this project do?");
  await composer.press("Enter");
  const chat = page.getByRole("region", { name: "Chat" });
  const retry = chat.getByRole("status").filter({ hasText: /Waiting for the provider, retry 1\/\d+ in 2 s/ });
  await retry.waitFor({ timeout: 60_000 });
  await chat.getByText(ANSWER).waitFor({ timeout: 30_000 });
  const turn = chat.locator("li[data-role=assistant]").first();
  await expect.poll(() => turn.getAttribute("data-status")).toBe("completed");
  // Once the turn is over the line says what happened, not what is happening.
  const waited = chat
    .getByRole("status")
    .filter({ hasText: /Waited for the provider, retry 1\/\d+ after 2 s/ });
  await waited.waitFor();
  // With what the provider said.
  expect(await waited.textContent()).toContain("rate limit");
  await page.screenshot({ path: path.join(SCREENSHOTS, "chat-retry.png") });
  await page.close();
}, 180_000);
