/**
 * Adding an agent worker from the studio, as an admin would: Settings → Workers, create a worker token, run
 * the command it shows (a real `kiln worker` process), see the worker connected, revoke the token and see
 * the worker disconnected (the process exits). Screenshots go to e2e/screenshots/.
 */
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, expect, it, onTestFailed } from "vitest";
import { freePort } from "../packages/server/src/testing/free-port.ts";
import { startTestKiln, type TestKiln } from "../packages/server/src/testing/harness.ts";
import { startWorkerProcess, type WorkerProcess } from "../packages/server/src/testing/processes.ts";
import { type Browser, launchChromium } from "./chromium.ts";
import { enterMailedCode } from "./verify-email.ts";

const SCREENSHOTS = path.join(path.dirname(fileURLToPath(import.meta.url)), "screenshots");

let kiln: TestKiln;
let browser: Browser;
let base: string;
let workDir: string;
let worker: WorkerProcess | undefined;

beforeAll(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  [kiln, browser] = await Promise.all([startTestKiln({ env: { KILN_PUBLIC_URL: base } }), launchChromium()]);
  await kiln.app.listen({ port, host: "127.0.0.1" });
  workDir = await mkdtemp(path.join(os.tmpdir(), "kiln-workers-e2e-"));
  await mkdir(SCREENSHOTS, { recursive: true });
}, 120_000);

afterAll(async () => {
  await worker?.stop("SIGKILL");
  await browser?.close();
  await kiln?.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`) });

it("creates a worker token, shows the worker that uses it, and revoking it disconnects the worker", async () => {
  const page = await browser.context.newPage();
  await page.setViewportSize({ width: 1280, height: 800 });
  onTestFailed(async () => {
    const file = path.join(os.tmpdir(), `kiln-workers-e2e-failure-${Date.now()}.png`);
    await page.screenshot({ path: file }).catch(() => {});
    process.stdout.write(`[e2e] screenshot at the failure: ${file}\n`);
  });
  const errors: string[] = [];
  page.on("pageerror", (err) => errors.push(err.message));
  page.on("dialog", (dialog) => void dialog.accept());

  await page.goto(`${base}/signup`);
  await page.getByLabel("Name").fill("Wes Worker");
  const email = `wes-${Date.now().toString(36)}@example.com`;
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("correct horse battery");
  await page.getByRole("button", { name: "Create account" }).click();
  await enterMailedCode(page, kiln, email);
  await page.getByRole("heading", { name: "Projects" }).waitFor();
  const org = new URL(page.url()).pathname.split("/")[1]!;

  await page.goto(`${base}/${org}/settings?tab=workers`);
  await page.getByText("No worker is connected").waitFor();
  await page.getByText("No worker tokens").waitFor();

  await page.getByLabel("Worker token name").fill("build-box-1");
  await page.getByRole("button", { name: "Create worker token" }).click();
  const command = (await page.getByTestId("worker-command").textContent()) ?? "";
  const token = /--token (kiln_wrk_[A-Za-z0-9_-]+)/.exec(command)?.[1];
  expect(command).toContain(`--server ${base}`);
  expect(token).toBeDefined();
  const tokens = page.getByRole("list", { name: "Worker tokens" });
  await tokens.getByText("build-box-1").waitFor();
  // The secret itself is never listed, only its prefix.
  expect(await tokens.textContent()).not.toContain(token);

  // The command as shown, run as a separate process (the list refreshes by itself).
  worker = await startWorkerProcess({ server: base, token: token!, workDir, name: "build-box-1" });
  const connected = page.getByRole("list", { name: "Connected workers" });
  await connected.getByText("build-box-1").waitFor({ timeout: 20_000 });
  await expect.poll(() => connected.textContent()).toContain("0 / 1 busy");
  await expect.poll(() => tokens.textContent(), { timeout: 15_000 }).toContain("used just now");
  await shot(page, "settings-workers");

  await tokens.getByRole("button", { name: "Revoke" }).click();
  await page.getByText("No worker tokens").waitFor();
  // The server closes the worker's socket as revoked; the worker stops and leaves the list.
  expect(await worker.exited).toBe(0);
  await page.getByText("No worker is connected").waitFor({ timeout: 20_000 });
  expect(errors).toEqual([]);
});
