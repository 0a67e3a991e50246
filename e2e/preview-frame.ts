import type { Locator, Page } from "playwright-core";
import { expect } from "vitest";

/**
 * What the studio's preview showed, for a failure message: the pane's own status line and every preview
 * frame's address and text. A wait on the preview that times out says only "not visible"; CI keeps just the
 * error, so the error has to carry what was on screen instead.
 */
export async function describePreview(page: Page): Promise<string> {
  const parts: string[] = [];
  const pane = page.getByRole("region", { name: "Preview" });
  const paneText = (await pane.textContent({ timeout: 1_000 }).catch(() => null)) ?? "(no preview region)";
  parts.push(`pane: ${oneLine(paneText, 300)}`);
  for (const handle of await page.$$('iframe[title^="App preview"]')) {
    const frame = await handle.contentFrame();
    const title = await handle.getAttribute("title");
    const text = await frame
      ?.evaluate<string>(`document.title + " | " + (document.body ? document.body.innerText : "")`)
      .catch((err: unknown) => `(unreadable: ${String(err).slice(0, 80)})`);
    parts.push(`${title} ${frame?.url() ?? "(detached)"}: ${oneLine(text ?? "", 500)}`);
  }
  return parts.join("\n");
}

/** `wait`, or its error with what the preview showed at that moment. */
export async function inPreview<T>(page: Page, wait: Promise<T>): Promise<T> {
  try {
    return await wait;
  } catch (err) {
    const shown = await describePreview(page).catch(() => "(could not read the preview)");
    if (err instanceof Error) err.message = `${err.message}\nThe preview showed:\n${shown}`;
    throw err;
  }
}

const oneLine = (text: string, max: number) => text.replace(/\s+/g, " ").trim().slice(0, max);

/**
 * Waits for the preview to settle after a turn: the turn's message completed (its end reloads the preview)
 * and no reload under way for two seconds on end — a second one may follow when the fresh page threw
 * (reloadIfBroken, 1.5 s after the turn). A click on a page being replaced is lost with it.
 */
export async function previewSettled(page: Page, turn: Locator, quietMs = 2_000): Promise<void> {
  await expect.poll(() => turn.getAttribute("data-status"), { timeout: 60_000 }).toBe("completed");
  const busy = page.getByRole("region", { name: "Preview" }).locator("[aria-busy=true]");
  const deadline = Date.now() + 30_000;
  let quietSince = Date.now();
  while (Date.now() - quietSince < quietMs) {
    if (Date.now() > deadline) throw new Error("the preview kept reloading for 30 s after the turn");
    if ((await busy.count()) > 0) quietSince = Date.now();
    await page.waitForTimeout(100);
  }
}
