/**
 * What every browser test starts from: a real Kiln (PGlite) listening on a free port, Debian's Chromium, and —
 * when the test talks to the agent — the scripted fake provider as the instance's model. Plus the small steps
 * each test repeats: screenshots, a screenshot at a failure, sign-up through the studio's own form.
 */
import { mkdir } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type FakeProvider, type FakeProviderOptions, startFakeProvider } from "@kiln/fake-provider";
import type { Page } from "playwright-core";
import { onTestFailed } from "vitest";
import { freePort } from "../packages/server/src/testing/free-port.ts";
import { startTestKiln, type TestKiln } from "../packages/server/src/testing/harness.ts";
import { type Browser, launchChromium, type Screen } from "./chromium.ts";
import { enterMailedCode } from "./verify-email.ts";

export const SCREENSHOTS = path.join(path.dirname(fileURLToPath(import.meta.url)), "screenshots");

export interface Studio {
  kiln: TestKiln;
  browser: Browser;
  /** The studio's address, as users open it: `http://localhost:<port>`. */
  base: string;
  port: number;
  /** Only when `model` was given. */
  fake: FakeProvider | undefined;
  close(): Promise<void>;
}

export interface StudioOptions {
  /** The scripted model: the instance's default model is the fake provider answering so. */
  model?: FakeProviderOptions;
  screen?: Screen;
  env?: Record<string, string>;
}

export async function startStudio(options: StudioOptions = {}): Promise<Studio> {
  const fake = options.model ? await startFakeProvider(options.model) : undefined;
  const port = await freePort();
  const base = `http://localhost:${port}`;
  const model: Record<string, string> = fake
    ? { OPENAI_BASE_URL: `${fake.url}/v1`, OPENAI_API_KEY: "x", KILN_MODEL: "openai/fake-model" }
    : {};
  const [kiln, browser] = await Promise.all([
    startTestKiln({ env: { KILN_PUBLIC_URL: base, ...model, ...options.env } }),
    launchChromium(options.screen),
    mkdir(SCREENSHOTS, { recursive: true }),
  ]);
  await kiln.app.listen({ port, host: "127.0.0.1" });
  return {
    kiln,
    browser,
    base,
    port,
    fake,
    async close() {
      await browser.close();
      await kiln.stop();
      await fake?.close();
    },
  };
}

/** A screenshot kept in e2e/screenshots/ — look at it. */
export const shot = (page: Page, name: string) =>
  page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`) });

/** When the running test fails, a screenshot of `page` in the temporary directory, its path printed. */
export function shotOnFailure(page: Page, name: string): void {
  onTestFailed(async () => {
    const file = path.join(os.tmpdir(), `kiln-${name}-e2e-failure-${Date.now()}.png`);
    await page.screenshot({ path: file }).catch(() => {});
    process.stdout.write(`[e2e] screenshot at the failure: ${file}\n`);
  });
}

/**
 * Signs up through the studio's form and the mailed code, as a new user does; resolves on the dashboard with
 * the personal org's slug and the address used.
 */
export async function signUpInBrowser(
  page: Page,
  studio: Pick<Studio, "kiln" | "base">,
  name: string,
): Promise<{ org: string; email: string }> {
  const email = `${name.split(" ")[0]!.toLowerCase()}-${Date.now().toString(36)}@example.com`;
  await page.goto(`${studio.base}/signup`);
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("correct horse battery");
  await page.getByRole("button", { name: "Create account" }).click();
  await enterMailedCode(page, studio.kiln, email);
  await page.getByRole("heading", { name: "Projects" }).waitFor();
  return { org: new URL(page.url()).pathname.split("/")[1]!, email };
}
