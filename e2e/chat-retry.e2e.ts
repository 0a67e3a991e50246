/**
 * A provider that throttles (issue #12): the first model call of a turn is answered 429 with retry-after,
 * the gateway waits and retries, and the chat says so ("Waiting for the provider, retry 1/… in 2 s") before
 * the answer streams in, instead of a silent pause. Screenshot: e2e/screenshots/chat-retry.png.
 */
import { mkdir } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type FakeProvider, startFakeProvider } from "@kiln/fake-provider";
import { afterAll, beforeAll, expect, it, onTestFailed } from "vitest";
import { freePort } from "../packages/server/src/testing/free-port.ts";
import { startTestKiln, type TestKiln } from "../packages/server/src/testing/harness.ts";
import { type Browser, launchChromium } from "./chromium.ts";
import { enterMailedCode } from "./verify-email.ts";

const SCREENSHOTS = path.join(path.dirname(fileURLToPath(import.meta.url)), "screenshots");
const ANSWER = "Here is the answer, after the provider let me through.";

let kiln: TestKiln;
let fake: FakeProvider;
let browser: Browser;
let base: string;

beforeAll(async () => {
  fake = await startFakeProvider({
    responder: (_request, index) =>
      index === 0
        ? { error: { status: 429, message: "Rate limit reached for requests", retryAfterSeconds: 2 } }
        : { text: ANSWER, chunkSize: 8, delayMs: 20 },
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

it("shows the provider's retry in the chat, then the answer", async () => {
  const page = await browser.context.newPage();
  await page.setViewportSize({ width: 1440, height: 900 });
  onTestFailed(async () => {
    const file = path.join(os.tmpdir(), `kiln-chat-retry-e2e-failure-${Date.now()}.png`);
    await page.screenshot({ path: file }).catch(() => {});
    process.stdout.write(`[e2e] screenshot at the failure: ${file}\n`);
  });
  await page.goto(`${base}/signup`);
  await page.getByLabel("Name").fill("Rita Retry");
  const email = `rita-${Date.now().toString(36)}@example.com`;
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("correct horse battery");
  await page.getByRole("button", { name: "Create account" }).click();
  await enterMailedCode(page, kiln, email);
  await page.getByRole("heading", { name: "Projects" }).waitFor();
  const org = new URL(page.url()).pathname.split("/")[1]!;
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
