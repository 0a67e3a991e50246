/**
 * `HOST=127.0.0.1` with no KILN_PUBLIC_URL, as `kiln start` is run on a laptop: the studio opened at the URL
 * Kiln prints (http://127.0.0.1:<port>) works all the way to the terminal's WebSocket, whose Origin check
 * belongs to the public URL (issue #12, bug 1: it defaulted to localhost and refused 127.0.0.1 forever).
 */
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, it } from "vitest";
import { freePort } from "../packages/server/src/testing/free-port.ts";
import { startTestKiln, type TestKiln } from "../packages/server/src/testing/harness.ts";
import { type Browser, launchChromium } from "./chromium.ts";
import { enterMailedCode } from "./verify-email.ts";

const SCREENSHOTS = path.join(path.dirname(fileURLToPath(import.meta.url)), "screenshots");

let kiln: TestKiln;
let browser: Browser;
let base: string;

beforeAll(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  [kiln, browser] = await Promise.all([
    // The harness's KILN_PUBLIC_URL unset: the default for HOST and PORT, what `kiln start` prints.
    startTestKiln({ env: { HOST: "127.0.0.1", PORT: String(port), KILN_PUBLIC_URL: undefined } }),
    launchChromium(),
  ]);
  await kiln.app.listen({ port, host: "127.0.0.1" });
  await mkdir(SCREENSHOTS, { recursive: true });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await kiln?.stop();
});

it("connects the terminal in the studio opened at http://127.0.0.1:<port>", async () => {
  const page = await browser.context.newPage();
  await page.setViewportSize({ width: 1280, height: 800 });
  const email = `lo-${Date.now().toString(36)}@example.com`;
  await page.goto(`${base}/signup`);
  await page.getByLabel("Name").fill("Lo Opback");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("correct horse battery");
  await page.getByRole("button", { name: "Create account" }).click();
  await enterMailedCode(page, kiln, email);
  await page.getByRole("heading", { name: "Projects" }).waitFor();
  const org = new URL(page.url()).pathname.split("/")[1]!;

  await page.getByRole("button", { name: "New project" }).click();
  const dialog = page.getByRole("dialog", { name: "New project" });
  await dialog.getByLabel("Project name").fill("Loop");
  await dialog.locator("[data-template=static]").click();
  await dialog.getByRole("button", { name: "Create project" }).click();
  await page.waitForURL(`${base}/${org}/loop`);

  const refused: number[] = [];
  page.on("response", (r) => {
    if (r.url().includes("/terminals/") && r.status() === 403) refused.push(r.status());
  });
  await page.getByRole("button", { name: /Toggle terminal/ }).click();
  const terminal = page.getByTestId("terminal");
  await terminal.waitFor();
  await page.getByText("Connected", { exact: true }).waitFor({ timeout: 20_000 });
  await terminal.click();
  await page.keyboard.type("echo loop-$((40+2))");
  await page.keyboard.press("Enter");
  await terminal.locator(".xterm-rows").getByText("loop-42", { exact: true }).waitFor({ timeout: 15_000 });
  expect(refused).toEqual([]);
  expect(kiln.config.publicUrl).toBe(base);
  await page.screenshot({ path: path.join(SCREENSHOTS, "terminal-loopback.png") });
  await page.close();
}, 180_000);
