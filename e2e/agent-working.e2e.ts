/**
 * While the agent works (issue 12), in a real browser against a real Kiln whose model is the scripted fake
 * provider: a tool call shows as a card while the model is still writing its arguments ("Writing
 * notes.txt…"); a message written during a turn is queued, shown as such and sent when the turn ends, and a
 * cancelled one is never sent; reloading the preview keeps the old page on screen until the new one has
 * loaded (no blank frame). Screenshots go to e2e/screenshots/.
 */
import { mkdir } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import {
  currentTurn,
  type FakeProvider,
  lastUserText,
  readConversation,
  startFakeProvider,
} from "@kiln/fake-provider";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, expect, it, onTestFailed } from "vitest";
import { freePort } from "../packages/server/src/testing/free-port.ts";
import { startTestKiln, type TestKiln } from "../packages/server/src/testing/harness.ts";
import { type Browser, launchChromium } from "./chromium.ts";
import { enterMailedCode } from "./verify-email.ts";

const SCREENSHOTS = path.join(path.dirname(fileURLToPath(import.meta.url)), "screenshots");
/** ≈ 1,500 characters of arguments at 8 a chunk and 30 ms a chunk: the call takes ≈ 6 s to write. */
const NOTES = "A line of notes about the kiln and its pots.\n".repeat(33);
/** ≈ 6 s of streamed text: long enough to queue messages under it. */
const STORY = `Once upon a time a small kiln fired one pot a day. ${"It glazed the pot, cooled it, and set it on the shelf. ".repeat(10)}The end.`;

let kiln: TestKiln;
let fake: FakeProvider;
let browser: Browser;
let base: string;
let page: Page;
let org: string;

beforeAll(async () => {
  fake = await startFakeProvider({
    responder: (request) => {
      const conversation = readConversation(request);
      const asked = lastUserText(conversation);
      if (/write the notes/.test(asked)) {
        if (currentTurn(conversation).some((m) => m.role === "tool")) return { text: "Wrote notes.txt." };
        return {
          toolCalls: [{ id: "call_w", name: "write_file", arguments: { path: "notes.txt", content: NOTES } }],
          chunkSize: 8,
          delayMs: 30,
        };
      }
      if (/tell a story/.test(asked)) return { text: STORY, chunkSize: 6, delayMs: 50 };
      return { text: `Answering: ${asked}` };
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
      },
    }),
    launchChromium(),
  ]);
  await kiln.app.listen({ port, host: "127.0.0.1" });
  await mkdir(SCREENSHOTS, { recursive: true });

  page = await browser.context.newPage();
  await page.setViewportSize({ width: 1440, height: 900 });
  await page.goto(`${base}/signup`);
  await page.getByLabel("Name").fill("Wendy Waiting");
  const email = `wendy-${Date.now().toString(36)}@example.com`;
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("correct horse battery");
  await page.getByRole("button", { name: "Create account" }).click();
  await enterMailedCode(page, kiln, email);
  await page.getByRole("heading", { name: "Projects" }).waitFor();
  org = new URL(page.url()).pathname.split("/")[1]!;
  await page.getByRole("button", { name: "New project" }).click();
  const create = page.getByRole("dialog", { name: "New project" });
  await create.getByLabel("Project name").fill("Busy");
  await create.locator("[data-template=static]").click();
  await create.getByRole("button", { name: "Create project" }).click();
  await page.waitForURL(`${base}/${org}/busy`);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await kiln?.stop();
  await fake?.close();
});

function screenshotOnFailure(name: string) {
  onTestFailed(async () => {
    const file = path.join(os.tmpdir(), `kiln-${name}-e2e-failure-${Date.now()}.png`);
    await page.screenshot({ path: file }).catch(() => {});
    process.stdout.write(`[e2e] screenshot at the failure: ${file}\n`);
  });
}

const chat = () => page.getByRole("region", { name: "Chat" });

async function send(text: string) {
  const composer = page.getByLabel("Message the agent");
  await composer.fill(text);
  await composer.press("Enter");
}

it("shows a tool call while the model is still writing it, then runs it in the same card", async () => {
  screenshotOnFailure("agent-writing");
  await send("write the notes please");
  const writing = chat().locator("[data-tool=write_file][data-state=writing]", {
    hasText: "Writing notes.txt…",
  });
  await writing.waitFor({ timeout: 30_000 });
  await page.screenshot({ path: path.join(SCREENSHOTS, "agent-writing-tool-call.png") });
  // Still being written: the arguments have not all arrived, so the call has not run.
  expect(await chat().locator("[data-tool=write_file]").getAttribute("data-state")).toBe("writing");
  await chat().locator("[data-tool=write_file][data-state=done]").waitFor({ timeout: 30_000 });
  await chat().getByText("Wrote notes.txt.").waitFor();
  expect(await chat().locator("[data-tool=write_file]").count()).toBe(1);
}, 120_000);

it("queues messages written during a turn, sends them when it ends and drops cancelled ones", async () => {
  screenshotOnFailure("agent-queue");
  await send("tell a story");
  const turn = chat().locator("li[data-role=assistant]").last();
  await chat().getByText("Once upon a time").waitFor({ timeout: 30_000 });
  expect(await turn.getAttribute("data-status")).toBe("running");

  await send("then list the pots");
  await send("never mind this one");
  const queued = chat().getByTestId("queued-message");
  await expect
    .poll(() => queued.allTextContents())
    .toEqual([expect.stringContaining("then list the pots"), expect.stringContaining("never mind this one")]);
  expect(await queued.first().textContent()).toContain("Queued");
  await page.screenshot({ path: path.join(SCREENSHOTS, "agent-queued-messages.png") });
  await queued
    .filter({ hasText: "never mind this one" })
    .getByRole("button", { name: "Cancel queued message" })
    .click();
  await expect.poll(() => queued.count()).toBe(1);
  // The turn is still running: nothing queued has gone out yet.
  expect(await turn.getAttribute("data-status")).toBe("running");

  await chat().getByText("Answering: then list the pots").waitFor({ timeout: 30_000 });
  expect(await turn.getAttribute("data-status")).toBe("completed");
  await expect.poll(() => queued.count()).toBe(0);
  await expect
    .poll(() => chat().locator("li[data-role=assistant]").last().getAttribute("data-status"))
    .toBe("completed");
  await sleep(500);
  const asked = fake.requests.map((r) => lastUserText(readConversation(r)));
  expect(asked).toContain("then list the pots");
  expect(asked.join("\n")).not.toContain("never mind this one");
}, 120_000);

it("keeps the old page on screen while the preview reloads", async () => {
  screenshotOnFailure("preview-reload");
  const visible = page.frameLocator('iframe[title="App preview"]');
  await visible.getByRole("heading", { name: "Hello, static web" }).waitFor({ timeout: 60_000 });
  const handle = await page.$('iframe[title="App preview"]');
  const previewHost = new URL((await handle!.getAttribute("src"))!).host;
  await (await handle!.contentFrame())!.evaluate("window.__kilnOldPage = 1");

  // The new page takes its time, as a rebuilding dev server does.
  let delayed = 0;
  await page.route(
    (url) => url.host === previewHost && url.pathname === "/",
    async (route) => {
      delayed++;
      await sleep(1500);
      await route.continue();
    },
  );
  await page.getByRole("button", { name: "Reload preview" }).click();

  const samples: Array<"blank" | "old" | "new"> = [];
  const until = Date.now() + 4000;
  while (Date.now() < until) {
    const sample = await sampleVisibleFrame();
    if (sample !== undefined) samples.push(sample);
    await sleep(40);
  }
  await page.unroute((url) => url.host === previewHost && url.pathname === "/");
  expect(delayed).toBeGreaterThan(0);
  // Never an empty document; the old page until the new one had loaded, then the new one.
  expect(samples.filter((s) => s === "blank")).toEqual([]);
  expect(samples.length).toBeGreaterThan(10);
  expect(samples[0]).toBe("old");
  expect(samples.at(-1)).toBe("new");
  await visible.getByRole("heading", { name: "Hello, static web" }).waitFor();
  await page.screenshot({ path: path.join(SCREENSHOTS, "preview-after-reload.png") });
}, 120_000);

/**
 * What the visible preview frame shows: "old"/"new" page with text, or "blank" (no page yet, a page not
 * ready to be read within a second, or one with no text).
 */
async function sampleVisibleFrame(): Promise<"blank" | "old" | "new" | undefined> {
  try {
    const frame = await (await page.$('iframe[title="App preview"]'))?.contentFrame();
    if (!frame) return undefined;
    if (!frame.url().startsWith("http")) return "blank";
    const read = frame.evaluate(
      "[document.body ? document.body.innerText.trim().length : 0, !!window.__kilnOldPage]",
    );
    read.catch(() => {});
    const result = await Promise.race([read, sleep(1000).then(() => "timeout" as const)]);
    if (result === "timeout") return "blank";
    const [length, old] = result as [number, boolean];
    if (length === 0) return "blank";
    return old ? "old" : "new";
  } catch {
    // The frame went away between finding it and reading it (it was swapped out): not a sample.
    return undefined;
  }
}
