/**
 * The chat's approval mode and the usage page's cost view, in a real browser against a real Kiln whose model
 * is the scripted fake provider (every turn writes one file, then says so): the mode selector shows the mode
 * a turn runs in, an "Approve all" reads as the chat's mode and picking Ask again asks again; calls to a model
 * without a price are listed in the cost view with their calls and tokens, their cost unknown.
 */
import { mkdir } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { currentTurn, type FakeProvider, readConversation, startFakeProvider } from "@kiln/fake-provider";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, expect, it, onTestFailed } from "vitest";
import { freePort } from "../packages/server/src/testing/free-port.ts";
import { startTestKiln, type TestKiln } from "../packages/server/src/testing/harness.ts";
import { type Browser, launchChromium } from "./chromium.ts";
import { enterMailedCode } from "./verify-email.ts";

const SCREENSHOTS = path.join(path.dirname(fileURLToPath(import.meta.url)), "screenshots");
const PASSWORD = "correct horse battery";

let kiln: TestKiln;
let fake: FakeProvider;
let browser: Browser;
let base: string;

beforeAll(async () => {
  let n = 0;
  fake = await startFakeProvider({
    responder: (request) => {
      if (currentTurn(readConversation(request)).some((m) => m.toolResults.length > 0)) {
        return { text: "Wrote the note.", usage: { inputTokens: 1_200, outputTokens: 300 } };
      }
      n++;
      return {
        toolCalls: [{ name: "write_file", arguments: { path: `notes/${n}.md`, content: `# Note ${n}\n` } }],
        usage: { inputTokens: 1_000, outputTokens: 100 },
      };
    },
  });
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  [kiln, browser] = await Promise.all([
    startTestKiln({
      env: {
        KILN_PUBLIC_URL: base,
        OPENAI_BASE_URL: `${fake.url}/v1`,
        OPENAI_API_KEY: "x",
        // No price is set for it: its cost is unknown.
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

const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`) });

async function newPage(name: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.context.newPage();
  await page.setViewportSize({ width: 1440, height: 900 });
  onTestFailed(async () => {
    const file = path.join(os.tmpdir(), `kiln-chat-modes-e2e-failure-${Date.now()}.png`);
    await page.screenshot({ path: file }).catch(() => {});
    process.stdout.write(`[e2e] screenshot at the failure: ${file}\n`);
  });
  const errors: string[] = [];
  page.on("pageerror", (err) => errors.push(err.message));
  // Another person: the previous test's session goes.
  await browser.context.clearCookies();
  await page.goto(`${base}/signup`);
  await page.getByLabel("Name").fill(name);
  const email = `${name.split(" ")[0]!.toLowerCase()}-${Date.now().toString(36)}@example.com`;
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await enterMailedCode(page, kiln, email);
  await page.getByRole("heading", { name: "Projects" }).waitFor();
  return { page, errors };
}

/** A static project with the preview pane closed (the chat is what is tested); answers its org's slug. */
async function newProject(page: Page, name: string, slug: string): Promise<string> {
  const org = new URL(page.url()).pathname.split("/")[1]!;
  await page.evaluate(() =>
    localStorage.setItem("kiln.workspace-ui", JSON.stringify({ state: { previewOpen: false }, version: 0 })),
  );
  await page.getByRole("button", { name: "New project" }).click();
  const create = page.getByRole("dialog", { name: "New project" });
  await create.getByLabel("Project name").fill(name);
  await create.locator("[data-template=static]").click();
  await create.getByRole("button", { name: "Create project" }).click();
  await page.waitForURL(`${base}/${org}/${slug}`);
  return org;
}

it("the approval-mode selector shows the mode that applies, Approve all included, and it can be undone", async () => {
  const { page, errors } = await newPage("Ava Approver");
  await newProject(page, "Modes app", "modes-app");
  const chat = page.getByRole("region", { name: "Chat" });
  const composer = page.getByLabel("Message the agent");
  const selector = chat.getByLabel("Approval mode");
  const shown = () => selector.locator("option:checked").textContent();
  const turn = (i: number) => chat.locator("li[data-role=assistant]").nth(i);
  const send = async (text: string) => {
    await composer.fill(text);
    await composer.press("Enter");
  };

  // A first turn in Allow: the file is written without asking.
  expect(await shown()).toBe("Allow");
  await send("write a note");
  await expect.poll(() => turn(0).getAttribute("data-status"), { timeout: 30_000 }).toBe("completed");
  expect(await turn(0).getByRole("group", { name: "Approval" }).count()).toBe(0);

  // Ask, and straight away a message: the turn waits for approval, and the selector says Ask throughout.
  await selector.selectOption("ask");
  await send("write another note");
  const approval = turn(1).getByRole("group", { name: "Approval" });
  await approval.waitFor({ timeout: 20_000 });
  expect(await shown()).toBe("Ask");
  await page.waitForTimeout(1_500);
  expect(await shown()).toBe("Ask");

  // Approve all: the rest of the chat runs without asking, and the selector says so.
  await approval.getByRole("button", { name: "Approve all" }).click();
  await expect.poll(() => turn(1).getAttribute("data-status"), { timeout: 30_000 }).toBe("completed");
  await expect.poll(shown).toBe("Approve all");
  await send("a third note");
  // A write and its checkpoint run in the project's sandbox: slow when the machine is busy with other suites.
  await expect.poll(() => turn(2).getAttribute("data-status"), { timeout: 90_000 }).toBe("completed");
  expect(await turn(2).getByRole("group", { name: "Approval" }).count()).toBe(0);
  expect(await shown()).toBe("Approve all");
  await shot(page, "chat-approve-all-mode");

  // It stays after a reload: it is the chat's.
  await page.reload();
  await expect.poll(shown, { timeout: 20_000 }).toBe("Approve all");

  // Back to Ask: the next change waits for approval again.
  await selector.selectOption("ask");
  await expect.poll(shown).toBe("Ask");
  await send("a fourth note");
  const again = turn(3).getByRole("group", { name: "Approval" });
  await again.waitFor({ timeout: 20_000 });
  await turn(3).locator("[data-tool=write_file][data-state=awaiting-approval]").waitFor();
  expect(await shown()).toBe("Ask");
  await again.getByRole("button", { name: "Approve", exact: true }).click();
  await expect.poll(() => turn(3).getAttribute("data-status"), { timeout: 60_000 }).toBe("completed");
  expect(await shown()).toBe("Ask");

  expect(errors).toEqual([]);
  await page.close();
}, 300_000);

it("the cost view lists calls to a model without a price with their calls and tokens, cost unknown", async () => {
  const { page, errors } = await newPage("Uma Usage");
  const org = await newProject(page, "Usage app", "usage-app");
  const composer = page.getByLabel("Message the agent");
  await composer.fill("write a note");
  await composer.press("Enter");
  const turn = page.getByRole("region", { name: "Chat" }).locator("li[data-role=assistant]").first();
  await expect.poll(() => turn.getAttribute("data-status"), { timeout: 30_000 }).toBe("completed");

  // Two calls (the tool call and the answer) to openai/fake-model, which has no price.
  await page.goto(`${base}/${org}/usage`);
  await page.getByRole("figure", { name: "Usage per day" }).waitFor();
  expect(await page.getByRole("button", { name: "Cost", pressed: true }).count()).toBe(1);
  const perModel = page.getByRole("figure", { name: "Usage per model" });
  const row = perModel.getByRole("listitem").filter({ hasText: "openai/fake-model" });
  await row.waitFor();
  await expect.poll(() => row.textContent()).toContain("2 calls · 2.6k tokens");
  expect(await row.textContent()).toContain("unknown");
  const perProject = page.getByRole("figure", { name: "Usage per project" });
  await perProject
    .getByRole("listitem")
    .filter({ hasText: "Usage app" })
    .filter({ hasText: "unknown" })
    .waitFor();
  expect(await page.getByText("No model calls in this period.").count()).toBe(0);
  // The header's cost says it is not the whole story.
  await page.getByText("2 of 2 calls to models without a price").waitFor();
  await shot(page, "usage-unpriced");

  expect(errors).toEqual([]);
  await page.close();
}, 120_000);
