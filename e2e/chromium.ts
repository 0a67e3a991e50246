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
  /** The live context: a new one after Chromium crashed (see `reviveCrashedBrowsers`). */
  readonly context: BrowserContext;
  close(): Promise<void>;
}

/** A screen to emulate: a phone is `{ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true }`. */
export interface Screen {
  viewport: { width: number; height: number };
  isMobile?: boolean;
  hasTouch?: boolean;
}

/**
 * A browser whose Chromium died mid-test (e2e/browser-gone.ts) is relaunched before the next test, with a
 * fresh profile; its `context` is then the new one.
 */
class LiveBrowser implements Browser {
  #context: BrowserContext;
  #profile: string;
  #closing = false;
  crashed = false;
  readonly screen: Screen;
  readonly args: string[];

  constructor(context: BrowserContext, profile: string, screen: Screen, args: string[]) {
    this.#context = context;
    this.#profile = profile;
    this.screen = screen;
    this.args = args;
    this.#watch();
  }

  get context(): BrowserContext {
    return this.#context;
  }

  #watch(): void {
    this.#context.once("close", () => {
      if (this.#closing) return;
      this.crashed = true;
      console.error("[e2e] Chromium went away during a test; it is relaunched for the next one");
    });
  }

  async relaunch(): Promise<void> {
    await rm(this.#profile, { recursive: true, force: true });
    const { context, profile } = await launch(this.screen, this.args);
    this.#context = context;
    this.#profile = profile;
    this.crashed = false;
    this.#watch();
  }

  async close(): Promise<void> {
    this.#closing = true;
    live.delete(this);
    await this.#context.close();
    await rm(this.#profile, { recursive: true, force: true });
  }
}

const live = new Set<LiveBrowser>();

/** Relaunches every browser of this test file whose Chromium died (e2e/browser-crash.setup.ts). */
export async function reviveCrashedBrowsers(): Promise<void> {
  for (const browser of live) if (browser.crashed) await browser.relaunch();
}

async function launch(screen: Screen, args: string[]): Promise<{ context: BrowserContext; profile: string }> {
  const profile = await mkdtemp(path.join(os.tmpdir(), "kiln-e2e-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...FLAGS, ...args],
    ...screen,
    // The studio follows the system's theme; headless Chromium says "light" unless told. The screenshots
    // show the dark theme unless a test asks for light (`page.emulateMedia`, e2e/theme.e2e.ts).
    colorScheme: "dark",
  });
  return { context, profile };
}

/**
 * A Chromium with a fresh profile in a temporary directory, removed on close. `args` are more flags (a
 * custom domain's `--host-resolver-rules=MAP shop.example.com 127.0.0.1`).
 */
export async function launchChromium(
  screen: Screen = { viewport: { width: 1100, height: 800 } },
  args: string[] = [],
): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `no Chromium at ${CHROMIUM}: run scripts/setup-system.sh as root (apt-get install chromium)`,
    );
  }
  const { context, profile } = await launch(screen, args);
  const browser = new LiveBrowser(context, profile, screen, args);
  live.add(browser);
  return browser;
}
