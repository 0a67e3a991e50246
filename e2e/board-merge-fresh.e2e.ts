/**
 * Approve and merge on a project nobody has chatted in (issue #12, bug 2): the workspace's index still holds
 * the stat data of the template's first commit, written before the tree was handed to the project's uid,
 * and the merge must refresh it in the sandbox instead of failing "not uptodate" with a 500. The agent's
 * branch changes a file the template made (index.html), the case the stale index refused.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { currentTurn, type FakeProvider, readConversation, startFakeProvider } from "@kiln/fake-provider";
import type { FileContent } from "@kiln/protocol";
import type { FastifyBaseLogger } from "fastify";
import pino from "pino";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { freePort } from "../packages/server/src/testing/free-port.ts";
import { startTestKiln, type TestKiln } from "../packages/server/src/testing/harness.ts";
import { KilnWorker } from "../packages/server/src/worker/client.ts";
import { type Browser, launchChromium } from "./chromium.ts";
import { enterMailedCode } from "./verify-email.ts";

const WORKER_TOKEN = "kiln_wrk_board_merge_fresh_e2e_0123456789abcdef012345";
const PAGE = "<!doctype html>\n<title>Merged</title>\n<h1>Merged by the board</h1>\n";

let kiln: TestKiln;
let fake: FakeProvider;
let browser: Browser;
let worker: KilnWorker;
let workDir: string;
let base: string;
let page: Page;

beforeAll(async () => {
  fake = await startFakeProvider({
    responder: (request) => {
      const conversation = readConversation(request);
      if (conversation.some((m) => m.role === "system" && m.text.includes("You are reviewing"))) {
        return { text: "Review: fine." };
      }
      if (currentTurn(conversation).some((m) => m.toolResults.length > 0))
        return { text: "Rewrote index.html." };
      return { toolCalls: [{ name: "write_file", arguments: { path: "index.html", content: PAGE } }] };
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
  workDir = await mkdtemp(path.join(os.tmpdir(), "kiln-board-merge-fresh-e2e-"));
  worker = new KilnWorker({
    server: base,
    token: WORKER_TOKEN,
    concurrency: 1,
    driver: kiln.driver,
    workDir,
    log: pino({ level: process.env.KILN_TEST_LOG ?? "silent" }) as FastifyBaseLogger,
  });
  await worker.start();
  page = await browser.context.newPage();
  await page.setViewportSize({ width: 1440, height: 900 });
}, 120_000);

afterAll(async () => {
  await worker?.stop();
  await browser?.close();
  await kiln?.stop();
  await fake?.close();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

it("approves and merges the agent's change to a template file on a project with no chat", async () => {
  await page.goto(`${base}/signup`);
  await page.getByLabel("Name").fill("Fresh Merge");
  const email = `fresh-${Date.now().toString(36)}@example.com`;
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("correct horse battery");
  await page.getByRole("button", { name: "Create account" }).click();
  await enterMailedCode(page, kiln, email);
  await page.getByRole("heading", { name: "Projects" }).waitFor();
  const org = new URL(page.url()).pathname.split("/")[1]!;
  await page.evaluate(() =>
    localStorage.setItem("kiln.workspace-ui", JSON.stringify({ state: { previewOpen: false }, version: 0 })),
  );
  await page.getByRole("button", { name: "New project" }).click();
  const create = page.getByRole("dialog", { name: "New project" });
  await create.getByLabel("Project name").fill("Fresh");
  await create.locator("[data-template=static]").click();
  await create.getByRole("button", { name: "Create project" }).click();
  await page.waitForURL(`${base}/${org}/fresh`);
  await page.getByRole("link", { name: "Board", exact: true }).click();
  await page.getByRole("region", { name: "To do" }).waitFor();

  await page.getByRole("button", { name: "New task" }).click();
  const dialog = page.getByRole("dialog", { name: "New task" });
  await dialog.getByLabel("Title").fill("Rewrite the page");
  await dialog.getByLabel("Assignee").selectOption("agent");
  await dialog.getByRole("button", { name: "Create task" }).click();
  const drawer = page.getByRole("complementary", { name: "Task #1" });
  await drawer.getByLabel("Status").selectOption({ label: "In progress" });
  await expect
    .poll(() => drawer.getByTestId("task-status").textContent(), { timeout: 120_000 })
    .toBe("Review");

  const failures: number[] = [];
  page.on("response", (r) => {
    if (r.url().includes("/tasks/") && r.status() >= 400) failures.push(r.status());
  });
  const review = drawer.getByRole("region", { name: "Agent's changes" });
  await review.locator("[data-diff-file='index.html']").waitFor();
  const approve = review.getByRole("button", { name: "Approve and merge" });
  await expect.poll(() => approve.isEnabled()).toBe(true);
  await approve.click();
  await expect.poll(() => drawer.getByTestId("task-status").textContent(), { timeout: 30_000 }).toBe("Done");
  await drawer.getByTestId("comment").filter({ hasText: "Approved and merged" }).waitFor();
  expect(failures).toEqual([]);
  const files = `/api/orgs/${org}/projects/fresh/files/content?path=index.html`;
  const merged = (await page.evaluate(async (u) => (await fetch(u)).json(), files)) as FileContent;
  expect(merged.content).toBe(PAGE);
}, 240_000);
