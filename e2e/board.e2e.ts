/**
 * The task board in a real browser against a real Kiln with an in-process worker and the scripted fake
 * provider as the model: create a task for the agent in Backlog, drag it to In progress (Done is dimmed on
 * the way, the workflow does not allow it), watch the implement job run in the task's drawer and the task
 * land in Review with the agent's summary as a comment. Handing a To do task to the agent, or creating a
 * task in In progress for it, starts its job too. Screenshots go to e2e/screenshots/.
 */
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { currentTurn, type FakeProvider, readConversation, startFakeProvider } from "@kiln/fake-provider";
import type { FastifyBaseLogger } from "fastify";
import pino from "pino";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, expect, it, onTestFailed } from "vitest";
import { freePort } from "../packages/server/src/testing/free-port.ts";
import { startTestKiln, type TestKiln } from "../packages/server/src/testing/harness.ts";
import { KilnWorker } from "../packages/server/src/worker/client.ts";
import { type Browser, launchChromium } from "./chromium.ts";
import { enterMailedCode } from "./verify-email.ts";

const SCREENSHOTS = path.join(path.dirname(fileURLToPath(import.meta.url)), "screenshots");
const PASSWORD = "correct horse battery";
const WORKER_TOKEN = "kiln_wrk_board_e2e_0123456789abcdef0123456789abcdef";
const SUMMARY = "Added NOTES.md with the release notes for the board.";

let kiln: TestKiln;
let fake: FakeProvider;
let browser: Browser;
let worker: KilnWorker;
let workDir: string;
let base: string;

beforeAll(async () => {
  fake = await startFakeProvider({
    responder: (request) => {
      const conversation = readConversation(request);
      // The review job that the default rules start once the task reaches Review.
      if (conversation.some((m) => m.role === "system" && m.text.includes("You are reviewing"))) {
        return { text: "Review: NOTES.md reads well. No problems found." };
      }
      if (currentTurn(conversation).some((m) => m.toolResults.length > 0)) {
        return { text: SUMMARY, chunkSize: 8, delayMs: 30 };
      }
      return {
        toolCalls: [{ name: "write_file", arguments: { path: "NOTES.md", content: "# Release notes\n" } }],
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
        KILN_MODEL: "openai/fake-model",
        KILN_WORKER_TOKEN: WORKER_TOKEN,
      },
    }),
    launchChromium(),
  ]);
  await kiln.app.listen({ port, host: "127.0.0.1" });
  workDir = await mkdtemp(path.join(os.tmpdir(), "kiln-board-e2e-"));
  worker = new KilnWorker({
    server: base,
    token: WORKER_TOKEN,
    concurrency: 1,
    driver: kiln.driver,
    workDir,
    log: pino({ level: process.env.KILN_TEST_LOG ?? "silent" }) as FastifyBaseLogger,
  });
  await worker.start();
  await mkdir(SCREENSHOTS, { recursive: true });
}, 120_000);

afterAll(async () => {
  await worker?.stop();
  await browser?.close();
  await kiln?.stop();
  await fake?.close();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`) });

it("creates a task for the agent, drags it into In progress and sees it land in Review", async () => {
  const page = await browser.context.newPage();
  await page.setViewportSize({ width: 1440, height: 900 });
  onTestFailed(async () => {
    const file = path.join(os.tmpdir(), `kiln-board-e2e-failure-${Date.now()}.png`);
    await page.screenshot({ path: file }).catch(() => {});
    process.stdout.write(`[e2e] screenshot at the failure: ${file}\n`);
  });
  const errors: string[] = [];
  page.on("pageerror", (err) => errors.push(err.message));

  await page.goto(`${base}/signup`);
  await page.getByLabel("Name").fill("Bea Board");
  const email = `bea-${Date.now().toString(36)}@example.com`;
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await enterMailedCode(page, kiln, email);
  await page.getByRole("heading", { name: "Projects" }).waitFor();
  const org = new URL(page.url()).pathname.split("/")[1]!;

  // No preview pane: the board is what is tested, and the sandboxed static app throws on its own storage.
  await page.evaluate(() =>
    localStorage.setItem("kiln.workspace-ui", JSON.stringify({ state: { previewOpen: false }, version: 0 })),
  );
  await page.getByRole("button", { name: "New project" }).click();
  const create = page.getByRole("dialog", { name: "New project" });
  await create.getByLabel("Project name").fill("Board app");
  await create.locator("[data-template=static]").click();
  await create.getByRole("button", { name: "Create project" }).click();
  await page.waitForURL(`${base}/${org}/board-app`);

  // The board, from the workspace header.
  await page.getByRole("link", { name: "Board", exact: true }).click();
  await page.waitForURL(`${base}/${org}/board-app?view=board`);
  const todo = page.getByRole("region", { name: "To do" });
  const backlog = page.getByRole("region", { name: "Backlog" });
  const doing = page.getByRole("region", { name: "In progress" });
  const review = page.getByRole("region", { name: "Review" });
  await todo.waitFor();

  // A task for the agent, in Backlog (in To do it would start at once); it opens in the drawer, which is
  // closed again to drag it.
  await page.getByRole("button", { name: "New task" }).click();
  const dialog = page.getByRole("dialog", { name: "New task" });
  await dialog.getByLabel("Title").fill("Write the release notes");
  await dialog.getByLabel("Description").fill("Add a **NOTES.md** with the release notes.");
  await dialog.getByLabel("Status").selectOption({ label: "Backlog" });
  await dialog.getByLabel("Assignee").selectOption("agent");
  await dialog.getByLabel("Priority").selectOption("high");
  await dialog.getByLabel("Labels").fill("docs, release");
  await dialog.getByRole("button", { name: "Create task" }).click();
  const drawer = page.getByRole("complementary", { name: "Task #1" });
  await drawer.getByText("NOTES.md", { exact: true }).waitFor();
  await drawer.getByRole("button", { name: "Close" }).click();
  const card = backlog.getByTestId("task-card").filter({ hasText: "Write the release notes" });
  await expect.poll(() => card.getByTestId("task-assignee").textContent()).toBe("🔥 Kiln");
  await shot(page, "board");

  // While dragging, Done is dimmed (Backlog → Done is not a transition of the workflow); In progress is not.
  await card.hover();
  await page.mouse.down();
  const doingBox = (await doing.boundingBox())!;
  await page.mouse.move(doingBox.x + doingBox.width / 2, doingBox.y + 80, { steps: 8 });
  await expect
    .poll(() => page.getByRole("region", { name: "Done" }).getAttribute("data-allowed"))
    .toBe("false");
  expect(await doing.getAttribute("data-allowed")).toBe("true");
  await shot(page, "board-dragging");
  await page.mouse.up();
  await doing.getByTestId("task-card").filter({ hasText: "Write the release notes" }).waitFor();

  // The default rule starts the implement job; the drawer follows its log until the task is in Review.
  await page.getByTestId("task-card").filter({ hasText: "Write the release notes" }).click();
  await drawer.getByTestId("job-log").waitFor();
  await review
    .getByTestId("task-card")
    .filter({ hasText: "Write the release notes" })
    .waitFor({ timeout: 90_000 });
  await expect
    .poll(() => drawer.getByTestId("comment").allTextContents(), { timeout: 30_000 })
    .toEqual(expect.arrayContaining([expect.stringContaining(SUMMARY)]));
  await expect.poll(() => drawer.getByTestId("task-status").textContent()).toBe("Review");
  // In Review, the branch and summary head the review of the agent's changes.
  await drawer
    .getByRole("region", { name: "Agent's changes" })
    .getByText(/kiln\/task-/)
    .waitFor();
  // The implement job's log shows the agent's turn as the chat would: its tool call and its answer.
  await drawer.getByRole("button", { name: /^implement/ }).click();
  await drawer.getByTestId("job-log").getByText(SUMMARY).waitFor();
  await shot(page, "board-task-drawer");

  // A comment by hand.
  await drawer.getByLabel("Add a comment").fill("Thanks, merging after the review.");
  await drawer.getByRole("button", { name: "Comment" }).click();
  await drawer.getByTestId("comment").filter({ hasText: "merging after the review" }).waitFor();

  // Without dragging: the status select offers the workflow's moves only; Done it is.
  const statusSelect = drawer.getByLabel("Status");
  expect(await statusSelect.locator("option").allTextContents()).toEqual([
    "In progress",
    "Review",
    "Done",
    "Cancelled",
  ]);
  await statusSelect.selectOption({ label: "Done" });
  await page
    .getByRole("region", { name: "Done" })
    .getByTestId("task-card")
    .filter({ hasText: "Write the release notes" })
    .waitFor();

  // The card's badge is the task's newest job: the review the default rule started on the way to Review.
  await expect
    .poll(() => page.getByRole("region", { name: "Done" }).getByTestId("job-badge").textContent(), {
      timeout: 30_000,
    })
    .toBe("review · completed");

  // The rules that did it are listed.
  await drawer.getByRole("button", { name: "Close" }).click();
  await page.getByRole("button", { name: "Automation rules" }).click();
  await page.getByText("Implement when an agent's task starts").waitFor();
  await shot(page, "board-rules");

  expect(errors).toEqual([]);
}, 180_000);

it("starts the agent's job when a To do task is handed to it, and for a task created in In progress for it", async () => {
  const page = await browser.context.newPage();
  await page.setViewportSize({ width: 1440, height: 900 });
  onTestFailed(async () => {
    const file = path.join(os.tmpdir(), `kiln-board-assign-e2e-failure-${Date.now()}.png`);
    await page.screenshot({ path: file }).catch(() => {});
    process.stdout.write(`[e2e] screenshot at the failure: ${file}\n`);
  });
  const errors: string[] = [];
  page.on("pageerror", (err) => errors.push(err.message));

  // Another person: the previous test's session goes.
  await browser.context.clearCookies();
  await page.goto(`${base}/signup`);
  await page.getByLabel("Name").fill("Abe Assign");
  const email = `abe-${Date.now().toString(36)}@example.com`;
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await enterMailedCode(page, kiln, email);
  await page.getByRole("heading", { name: "Projects" }).waitFor();
  const org = new URL(page.url()).pathname.split("/")[1]!;
  await page.evaluate(() =>
    localStorage.setItem("kiln.workspace-ui", JSON.stringify({ state: { previewOpen: false }, version: 0 })),
  );
  await page.getByRole("button", { name: "New project" }).click();
  const create = page.getByRole("dialog", { name: "New project" });
  await create.getByLabel("Project name").fill("Assign app");
  await create.locator("[data-template=static]").click();
  await create.getByRole("button", { name: "Create project" }).click();
  await page.waitForURL(`${base}/${org}/assign-app`);
  await page.goto(`${base}/${org}/assign-app?view=board`);
  const todo = page.getByRole("region", { name: "To do" });
  await todo.waitFor();
  const cardOf = (title: string) => page.getByTestId("task-card").filter({ hasText: title });

  // A task in To do, nobody's: nothing starts.
  await page.getByRole("button", { name: "New task" }).click();
  const dialog = page.getByRole("dialog", { name: "New task" });
  await dialog.getByLabel("Title").fill("Add a footer");
  await dialog.getByRole("button", { name: "Create task" }).click();
  const drawer = page.getByRole("complementary", { name: "Task #1" });
  await expect.poll(() => drawer.getByTestId("task-status").textContent()).toBe("To do");
  await todo.getByTestId("task-card").filter({ hasText: "Add a footer" }).waitFor();
  expect(await cardOf("Add a footer").getByTestId("job-badge").count()).toBe(0);

  // Handed to the agent in the drawer: the default rules start its implement job and move it along.
  await drawer.getByLabel("Assignee").selectOption("agent");
  await expect
    .poll(() => cardOf("Add a footer").getByTestId("job-badge").textContent(), { timeout: 30_000 })
    .toMatch(/^implement · /);
  expect(await todo.getByTestId("task-card").filter({ hasText: "Add a footer" }).count()).toBe(0);
  await drawer.getByTestId("job-log").waitFor({ timeout: 30_000 });
  await shot(page, "board-assigned-to-agent");
  await drawer.getByRole("button", { name: "Close" }).click();

  // Created straight in In progress for the agent: its job starts too.
  await page.getByRole("button", { name: "New task" }).click();
  await dialog.getByLabel("Title").fill("Add a header");
  await dialog.getByLabel("Status").selectOption({ label: "In progress" });
  await dialog.getByLabel("Assignee").selectOption("agent");
  await dialog.getByRole("button", { name: "Create task" }).click();
  await page.getByRole("complementary", { name: "Task #2" }).getByRole("button", { name: "Close" }).click();
  await expect
    .poll(() => cardOf("Add a header").getByTestId("job-badge").textContent(), { timeout: 30_000 })
    .toMatch(/^implement · /);

  // Each started one implement job, whatever rules asked for it.
  const jobs = await page.evaluate(
    async (url) => (await (await fetch(url)).json()) as { taskId: string; kind: string }[],
    `/api/orgs/${org}/jobs?limit=50`,
  );
  const implement = jobs.filter((j) => j.kind === "implement");
  expect(implement).toHaveLength(2);
  expect(new Set(implement.map((j) => j.taskId)).size).toBe(2);

  expect(errors).toEqual([]);
  await page.close();
}, 180_000);
