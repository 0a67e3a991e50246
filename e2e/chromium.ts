import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { type BrowserContext, chromium } from "playwright-core";

/** Debian's Chromium (`scripts/setup-system.sh` installs it); playwright-core never downloads a browser. */
export const CHROMIUM = process.env.KILN_CHROMIUM ?? "/usr/bin/chromium";

/**
 * Headless, no sandbox (we run as root in CI), and none of Chromium's own traffic (updates, sync,
 * field trials), so everything the page loads is what the preview asked for.
 */
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-quic",
  "--no-first-run",
];

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** A screen to emulate: a phone is `{ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true }`. */
export interface Screen {
  viewport: { width: number; height: number };
  isMobile?: boolean;
  hasTouch?: boolean;
}

/** A Chromium with a fresh profile in a temporary directory, removed on close. */
export async function launchChromium(
  screen: Screen = { viewport: { width: 1100, height: 800 } },
): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `no Chromium at ${CHROMIUM}: run scripts/setup-system.sh as root (apt-get install chromium)`,
    );
  }
  const profile = await mkdtemp(path.join(os.tmpdir(), "kiln-e2e-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    ...screen,
    // The studio follows the system's theme; headless Chromium says "light" unless told. The screenshots
    // show the dark theme unless a test asks for light (`page.emulateMedia`, e2e/theme.e2e.ts).
    colorScheme: "dark",
  });
  return {
    context,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}
