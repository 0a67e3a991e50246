/**
 * The agent in the studio, in a real browser against a real Kiln whose model is the scripted fake
 * provider: set up a provider and a price, create a react-vite project, ask for a counter and watch the
 * tool cards stream in and the preview gain the button; undo the turn and the preview loses it again;
 * look at the history; an `ask` turn waits for approval; a page reload in the middle of a turn picks the
 * stream up where it was; the usage page counts it all. Screenshots go to e2e/screenshots/.
 */
import { mkdir } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  type FakeProvider,
  lastUserText,
  readConversation,
  scenarios,
  startFakeProvider,
} from "@kiln/fake-provider";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, expect, it, onTestFailed } from "vitest";
import { freePort } from "../packages/server/src/testing/free-port.ts";
import { startTestKiln, type TestKiln } from "../packages/server/src/testing/harness.ts";
import { type Browser, launchChromium } from "./chromium.ts";
import { enterMailedCode } from "./verify-email.ts";

const SCREENSHOTS = path.join(path.dirname(fileURLToPath(import.meta.url)), "screenshots");
const PASSWORD = "correct horse battery";
const PROVIDER_KEY = "sk-e2e-never-shown-9f3a71c2";
/** Long and slow enough (≈ 5 s) to reload the page in the middle of it. */
const STORY = `Once upon a time a small kiln fired one pot a day. ${"It glazed the pot, cooled it, and set it on the shelf. ".repeat(8)}The end.`;

let kiln: TestKiln;
let fake: FakeProvider;
let browser: Browser;
let base: string;

beforeAll(async () => {
  const counter = scenarios["build-counter-app"]!();
  fake = await startFakeProvider({
    responder: (request, index) => {
      const asked = lastUserText(readConversation(request));
      if (/story|continue where you stopped/i.test(asked)) return { text: STORY, chunkSize: 6, delayMs: 50 };
      if (asked.includes("missing-module")) return { text: "The import of `./missing-module` is broken." };
      return counter(request, index);
    },
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
        // The org provider added below points at the fake provider on loopback: the operator exempts it.
        KILN_EGRESS_ALLOW: fake.url,
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

const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`) });

it("builds, undoes, approves, reconnects, stops and fixes with the agent", async () => {
  const page = await browser.context.newPage();
  await page.setViewportSize({ width: 1440, height: 900 });
  onTestFailed(async () => {
    const file = path.join(os.tmpdir(), `kiln-chat-e2e-failure-${Date.now()}.png`);
    await page.screenshot({ path: file }).catch(() => {});
    process.stdout.write(`[e2e] screenshot at the failure: ${file}\n`);
  });
  // The studio's own errors; the app in the preview may throw while the agent is half-way through a change.
  const errors: string[] = [];
  page.on("pageerror", (err) => {
    if (!err.stack?.includes("counter-app--")) errors.push(err.message);
  });

  // Sign up.
  await page.goto(`${base}/signup`);
  await page.getByLabel("Name").fill("Ada Agent");
  const email = `ada-${Date.now().toString(36)}@example.com`;
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await enterMailedCode(page, kiln, email);
  await page.getByRole("heading", { name: "Projects" }).waitFor();
  const org = new URL(page.url()).pathname.split("/")[1]!;

  // Settings → Models: an org provider (its key never comes back) and a price for the fake model.
  await page.goto(`${base}/${org}/settings?tab=models`);
  await page.getByRole("button", { name: "Add provider" }).click();
  const dialog = page.getByRole("dialog", { name: "Add a model provider" });
  await dialog.getByLabel("Name").fill("team-fake");
  await dialog.getByLabel("Kind").selectOption("openai-compatible");
  await dialog.getByLabel("Base URL").fill(`${fake.url}/v1`);
  await dialog.getByLabel("API key").fill(PROVIDER_KEY);
  await dialog.getByRole("button", { name: "Add provider" }).click();
  await page.locator("[data-provider=team-fake]").waitFor();
  await page.getByLabel("Model", { exact: true }).fill("fake-model");
  await page.getByLabel("Input price", { exact: true }).fill("3");
  await page.getByLabel("Output price").fill("15");
  await page.getByRole("button", { name: "Set price" }).click();
  await page.getByRole("cell", { name: /fake-model\s*org price/ }).waitFor();
  await page.getByRole("option", { name: "team-fake/fake-model" }).waitFor({ state: "attached" });
  expect(await page.content()).not.toContain(PROVIDER_KEY);
  await shot(page, "settings-models");

  // A react-vite project; the preview shows the template.
  await page.goto(`${base}/${org}`);
  await page.getByRole("button", { name: "New project" }).click();
  const create = page.getByRole("dialog", { name: "New project" });
  await create.getByLabel("Project name").fill("Counter app");
  await create.locator("[data-template=react-vite]").click();
  await create.getByRole("button", { name: "Create project" }).click();
  await page.waitForURL(`${base}/${org}/counter-app`);
  const preview = page.frameLocator('iframe[title="App preview"]');
  await preview.getByRole("heading", { name: "Your app starts here" }).waitFor({ timeout: 60_000 });

  // "add a counter": tool cards stream in, the preview gets the button (Vite HMR).
  const composer = page.getByLabel("Message the agent");
  await composer.fill("add a counter");
  await composer.press("Enter");
  const chat = page.getByRole("region", { name: "Chat" });
  await chat.locator("[data-tool=list_files]").first().waitFor();
  await chat.locator("[data-tool=write_file][data-state=done]").first().waitFor({ timeout: 20_000 });
  await chat.locator("[data-tool=bash][data-state=done]").first().waitFor({ timeout: 20_000 });
  await chat.getByText(/^Done! I added/).waitFor();
  await preview.getByRole("button", { name: "Count: 0" }).waitFor({ timeout: 20_000 });
  const firstTurn = chat.locator("li[data-role=assistant]").first();
  await expect.poll(() => firstTurn.getAttribute("data-status")).toBe("completed");
  await firstTurn
    .getByTestId("message-usage")
    .getByText(/in · .* out · \$/)
    .waitFor();
  await chat.getByTestId("chat-usage").waitFor();
  await firstTurn.locator("[data-tool=edit_file] button").first().click();
  await chat.getByText("Changes").first().waitFor();
  await shot(page, "chat-tool-cards");

  // Undo the turn: the files go back and so does the preview.
  await firstTurn.getByRole("button", { name: "Undo this turn" }).click();
  await page.getByText(/^Undid the turn/).waitFor();
  await expect
    .poll(() => preview.getByRole("button", { name: /Count:/ }).count(), { timeout: 20_000 })
    .toBe(0);
  await preview.getByRole("button", { name: /Clicked 0 times/ }).waitFor();

  // History: the agent's checkpoint and the undo, with the diff of the turn.
  await chat.getByRole("tab", { name: "History" }).click();
  const checkpoints = chat.getByRole("list", { name: "Checkpoints" });
  await checkpoints.getByText(/^Undo/).waitFor();
  await checkpoints.getByText("add a counter", { exact: false }).first().waitFor();
  await shot(page, "history-panel");
  await checkpoints
    .getByRole("listitem")
    .filter({ has: page.getByText("add a counter", { exact: true }) })
    .first()
    .getByRole("button", { name: "View changes" })
    .click();
  const diff = page.getByRole("dialog");
  await diff.locator("[data-diff-file='src/Counter.tsx']").waitFor();
  await shot(page, "history-diff");
  await diff.getByRole("button", { name: "Close" }).click();
  await chat.getByRole("tab", { name: "Chat" }).click();

  // Ask mode: the first change waits for a decision; Approve runs it, Approve all lets the rest through.
  await chat.getByLabel("Approval mode").selectOption("ask");
  await composer.fill("add a counter please");
  await composer.press("Enter");
  const approval = chat.getByRole("group", { name: "Approval" });
  await approval.waitFor({ timeout: 20_000 });
  await expect(chat.locator("[data-tool=write_file][data-state=awaiting-approval]").count()).resolves.toBe(1);
  await approval.getByText(/^\d+:\d\d$/).waitFor();
  await shot(page, "chat-approval");
  await approval.getByRole("button", { name: "Approve", exact: true }).click();
  const secondTurn = chat.locator("li[data-role=assistant]").nth(1);
  await secondTurn.locator("[data-tool=write_file][data-state=done]").waitFor({ timeout: 20_000 });
  await secondTurn.getByRole("group", { name: "Approval" }).waitFor({ timeout: 20_000 });
  await secondTurn.getByRole("button", { name: "Approve all" }).click();
  await expect.poll(() => secondTurn.getAttribute("data-status"), { timeout: 30_000 }).toBe("completed");
  await preview.getByRole("button", { name: "Count: 0" }).waitFor({ timeout: 20_000 });

  // A reload in the middle of a turn: the page reconnects and the answer completes, each word once.
  await composer.fill("tell me a story");
  await composer.press("Enter");
  const thirdTurn = chat.locator("li[data-role=assistant]").nth(2);
  await thirdTurn.getByText(/Once upon a time/).waitFor({ timeout: 20_000 });
  expect(await thirdTurn.getAttribute("data-status")).toBe("running");
  await page.reload();
  const afterReload = page.getByRole("region", { name: "Chat" }).locator("li[data-role=assistant]").nth(2);
  await afterReload.getByText(/The end\./).waitFor({ timeout: 30_000 });
  await expect.poll(() => afterReload.getAttribute("data-status")).toBe("completed");
  expect((await afterReload.locator(".prose-kiln").textContent())?.trim()).toBe(STORY);
  await shot(page, "chat-reconnected");

  // A dropped connection: the first stream of the next turn is cut half-way; the page reconnects from the
  // last event it saw and the server sends only what was missed.
  const events = /\/messages\/[^/]+\/events/;
  const resumedFrom: string[] = [];
  await page.route(events, async (route) => {
    const after = new URL(route.request().url()).searchParams.get("after");
    if (after !== null) {
      resumedFrom.push(after);
      return route.continue();
    }
    const response = await route.fetch();
    const frames = (await response.text()).split("\n\n");
    await route.fulfill({ response, body: `${frames.slice(0, frames.length >> 1).join("\n\n")}\n\n` });
  });
  await composer.fill("one more story");
  await composer.press("Enter");
  const dropped = chat.locator("li[data-role=assistant]").nth(3);
  await expect.poll(() => dropped.getAttribute("data-status"), { timeout: 30_000 }).toBe("completed");
  expect((await dropped.locator(".prose-kiln").textContent())?.trim()).toBe(STORY);
  expect(resumedFrom.map(Number)).toEqual([expect.any(Number)]);
  expect(Number(resumedFrom[0])).toBeGreaterThan(1);
  await page.unroute(events);

  // Escape stops a running turn; Resume continues it as a new answer.
  await composer.fill("tell me another story");
  await composer.press("Enter");
  const stopped = chat.locator("li[data-role=assistant]").nth(4);
  await stopped.getByText(/Once upon a time/).waitFor({ timeout: 20_000 });
  await composer.press("Escape");
  await expect.poll(() => stopped.getAttribute("data-status"), { timeout: 20_000 }).toBe("cancelled");
  await stopped.getByRole("button", { name: "Resume" }).click();
  const resumed = chat.locator("li[data-role=assistant]").nth(5);
  await expect.poll(() => resumed.getAttribute("data-status"), { timeout: 30_000 }).toBe("completed");

  // A broken import: the preview pane shows the error, and "Fix with agent" hands it to this chat.
  const csrf = (await browser.context.cookies(base)).find((c) => c.name === "kiln_csrf")?.value ?? "";
  await page.evaluate(
    async ({ url, csrf }) => {
      const read = await fetch(`${url}?path=src/App.tsx`);
      const { content } = (await read.json()) as { content: string };
      const res = await fetch(url, {
        method: "PUT",
        headers: { "content-type": "application/json", "x-csrf-token": csrf },
        body: JSON.stringify({ path: "src/App.tsx", content: `import "./missing-module";\n${content}` }),
      });
      if (!res.ok) throw new Error(`write failed: ${res.status}`);
    },
    { url: `/api/orgs/${org}/projects/counter-app/files/content`, csrf: decodeURIComponent(csrf) },
  );
  const banner = page.getByRole("alert", { name: "Preview errors" });
  await banner.getByRole("button", { expanded: false }).click({ timeout: 30_000 });
  await banner
    .getByRole("listitem")
    .filter({ hasText: "missing-module" })
    .first()
    .waitFor({ timeout: 30_000 });
  await shot(page, "preview-error-banner");
  await banner.getByRole("button", { name: "Fix with agent" }).click();
  const fix = chat.locator("li[data-role=assistant]").nth(6);
  await fix.getByText("The import of").waitFor({ timeout: 20_000 });
  expect(await chat.locator("li[data-role=user]").last().textContent()).toContain("missing-module");
  await expect.poll(() => banner.count()).toBe(0);
  // The chat takes the keyboard: the next words go to the agent.
  expect(await page.evaluate('document.activeElement?.getAttribute("aria-label")')).toBe("Message the agent");

  // Usage: the turns above, per day, model and project.
  await page.goto(`${base}/${org}/usage`);
  await page.getByRole("figure", { name: "Usage per day" }).waitFor();
  await page.getByRole("figure", { name: "Usage per project" }).getByText("Counter app").waitFor();
  await page.getByRole("figure", { name: "Usage per model" }).getByText("openai/fake-model").waitFor();
  await shot(page, "usage");

  expect(errors).toEqual([]);
  await page.close();
}, 90_000);
