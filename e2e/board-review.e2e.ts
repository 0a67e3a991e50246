/**
 * The board's editing and review in a real browser against a real Kiln, an in-process worker and the
 * scripted fake provider as the model: edit a task (kept after a reload), let the agent implement it, read
 * its diff in the task's drawer, request changes (a fix job whose log the drawer follows), approve (merged
 * into main, the task in Done, the file on main), write an automation rule in the rules editor and see it
 * fire, and look at the workflow. Screenshots go to e2e/screenshots/board-*.png.
 */
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { currentTurn, type FakeProvider, readConversation, startFakeProvider } from "@kiln/fake-provider";
import type { FileContent, Workflow } from "@kiln/protocol";
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
const WORKER_TOKEN = "kiln_wrk_board_review_e2e_0123456789abcdef0123456789";
const SUMMARY = "Added NOTES.md with the release notes.";
const FIX_SUMMARY = "NOTES.md now says that the board has a review step.";
const FIRST = "# Release notes\n";
const FIXED = "# Release notes\n\n- The board has a review step.\n";
const CHANGES = "Mention that the board has a review step.";

let kiln: TestKiln;
let fake: FakeProvider;
let browser: Browser;
let worker: KilnWorker;
let workDir: string;
let base: string;
let page: Page;
let org: string;
const errors: string[] = [];

beforeAll(async () => {
  fake = await startFakeProvider({
    responder: (request) => {
      const conversation = readConversation(request);
      if (conversation.some((m) => m.role === "system" && m.text.includes("You are reviewing"))) {
        return { text: "Review: NOTES.md reads well." };
      }
      // A fix job's brief carries the reviewer's words.
      const fixing = conversation.some((m) => m.role === "user" && m.text.includes("reviewer asks"));
      if (currentTurn(conversation).some((m) => m.toolResults.length > 0)) {
        return { text: fixing ? FIX_SUMMARY : SUMMARY, chunkSize: 8, delayMs: 20 };
      }
      return {
        toolCalls: [{ name: "write_file", arguments: { path: "NOTES.md", content: fixing ? FIXED : FIRST } }],
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
  workDir = await mkdtemp(path.join(os.tmpdir(), "kiln-board-review-e2e-"));
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
  page = await browser.context.newPage();
  await page.setViewportSize({ width: 1440, height: 900 });
  page.on("pageerror", (err) => errors.push(err.message));
}, 120_000);

afterAll(async () => {
  await worker?.stop();
  await browser?.close();
  await kiln?.stop();
  await fake?.close();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

const shot = (name: string) => page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`) });

function onFailure() {
  onTestFailed(async () => {
    const file = path.join(os.tmpdir(), `kiln-board-review-e2e-failure-${Date.now()}.png`);
    await page.screenshot({ path: file }).catch(() => {});
    process.stdout.write(`[e2e] screenshot at the failure: ${file}\n`);
  });
}

/** A GET with the page's session, as the studio would make it. */
const apiGet = <T>(url: string): Promise<T> =>
  page.evaluate(async (u) => {
    const res = await fetch(u);
    if (!res.ok) throw new Error(`${res.status} ${await res.text()}`);
    return res.json();
  }, url) as Promise<T>;

const drawerOf = (n: number) => page.getByRole("complementary", { name: `Task #${n}` });
const card = (title: string) => page.getByTestId("task-card").filter({ hasText: title });

it("edits a task's title, description, labels and priority; the changes outlive a reload", async () => {
  onFailure();
  await page.goto(`${base}/signup`);
  await page.getByLabel("Name").fill("Rhea Review");
  const email = `rhea-${Date.now().toString(36)}@example.com`;
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await enterMailedCode(page, kiln, email);
  await page.getByRole("heading", { name: "Projects" }).waitFor();
  org = new URL(page.url()).pathname.split("/")[1]!;
  await page.evaluate(() =>
    localStorage.setItem("kiln.workspace-ui", JSON.stringify({ state: { previewOpen: false }, version: 0 })),
  );
  await page.getByRole("button", { name: "New project" }).click();
  const create = page.getByRole("dialog", { name: "New project" });
  await create.getByLabel("Project name").fill("Review app");
  await create.locator("[data-template=static]").click();
  await create.getByRole("button", { name: "Create project" }).click();
  await page.waitForURL(`${base}/${org}/review-app`);
  await page.getByRole("link", { name: "Board", exact: true }).click();
  await page.getByRole("region", { name: "To do" }).waitFor();

  await page.getByRole("button", { name: "New task" }).click();
  const dialog = page.getByRole("dialog", { name: "New task" });
  await dialog.getByLabel("Title").fill("Release notes");
  await dialog.getByLabel("Assignee").selectOption("agent");
  // In Backlog the agent does not start yet: the next test starts it by moving the task, and an agent
  // job that finished early would otherwise be started a second time by that move.
  await dialog.getByLabel("Status").selectOption({ label: "Backlog" });
  await dialog.getByRole("button", { name: "Create task" }).click();
  const drawer = drawerOf(1);
  await drawer.getByRole("button", { name: "No description. Add one…" }).click();

  const form = drawer.getByRole("form", { name: "Edit task" });
  // An empty title is refused beside the field before anything is sent.
  await form.getByLabel("Title").fill("   ");
  await form.getByRole("button", { name: "Save" }).click();
  await form.getByRole("alert").waitFor();
  expect(await form.getByLabel("Title").getAttribute("aria-invalid")).toBe("true");

  await form.getByLabel("Title").fill("Write the release notes for 1.0");
  await form
    .getByLabel("Description")
    .fill("Add a **NOTES.md** with the release notes.\n\n- keep it short\n- one line per change");
  await form.getByLabel("Priority").selectOption("high");
  await form.getByLabel("Labels").fill("docs, release");
  await shot("board-task-edit");
  await form.getByRole("button", { name: "Save" }).click();
  await drawer.getByRole("heading", { name: "Write the release notes for 1.0" }).waitFor();

  await page.reload();
  await card("Write the release notes for 1.0").click();
  await drawer.getByTestId("task-description").locator("strong", { hasText: "NOTES.md" }).waitFor();
  expect(await drawer.getByTestId("task-description").locator("li").allTextContents()).toEqual([
    "keep it short",
    "one line per change",
  ]);
  const header = await drawer.locator("header").first().textContent();
  expect(header).toContain("high");
  expect(header).toContain("docs");
  expect(header).toContain("release");
}, 150_000);

it("shows the agent's diff once the task reaches Review", async () => {
  onFailure();
  const drawer = drawerOf(1);
  // The keyboard's way to move it: the default rule starts the implement job on In progress.
  await drawer.getByLabel("Status").selectOption({ label: "In progress" });
  await expect
    .poll(() => drawer.getByTestId("task-status").textContent(), { timeout: 120_000 })
    .toBe("Review");
  const review = drawer.getByRole("region", { name: "Agent's changes" });
  await review.getByTestId("review-summary").getByText(SUMMARY).waitFor();
  const file = review.locator("[data-diff-file='NOTES.md']");
  await file.getByText("# Release notes").waitFor();
  expect(await review.getByTestId("review-stats").textContent()).toContain("1 file");
  await review.getByText(/kiln\/task-/).waitFor();
  await shot("board-review");

  // At phone width the drawer takes the screen and the review still reads.
  await page.setViewportSize({ width: 390, height: 844 });
  // The drawer is laid out again for the narrow screen: the button may be replaced while it is found.
  await expect
    .poll(() =>
      review
        .getByRole("button", { name: "Approve and merge" })
        .scrollIntoViewIfNeeded({ timeout: 2_000 })
        .then(
          () => true,
          () => false,
        ),
    )
    .toBe(true);
  await shot("board-review-phone");
  await page.setViewportSize({ width: 1440, height: 900 });
}, 150_000);

it("requests changes with a comment; the fix job runs in the drawer's log and the diff follows", async () => {
  onFailure();
  const drawer = drawerOf(1);
  const review = drawer.getByRole("region", { name: "Agent's changes" });
  await review.getByRole("button", { name: "Request changes" }).click();
  // The comment is required.
  await review.getByRole("button", { name: "Send to the agent" }).click();
  await review.getByRole("alert").filter({ hasText: "Say what the agent should change" }).waitFor();
  await review.getByLabel("What should the agent change?").fill(CHANGES);
  await review.getByRole("button", { name: "Send to the agent" }).click();

  await drawer.getByRole("button", { name: /^fix/ }).waitFor();
  await drawer.getByTestId("comment").filter({ hasText: CHANGES }).waitFor();
  await drawer.getByTestId("job-log").getByText(FIX_SUMMARY).waitFor({ timeout: 120_000 });
  await shot("board-fix-job");
  await expect
    .poll(() => review.locator("[data-diff-file='NOTES.md']").textContent(), { timeout: 30_000 })
    .toContain("The board has a review step.");
  await review.getByTestId("review-summary").getByText(FIX_SUMMARY).waitFor();
}, 150_000);

it("approves: the branch is merged into main and the task is Done", async () => {
  onFailure();
  const drawer = drawerOf(1);
  const review = drawer.getByRole("region", { name: "Agent's changes" });
  const approve = review.getByRole("button", { name: "Approve and merge" });
  await expect.poll(() => approve.isEnabled()).toBe(true);
  await approve.click();
  // The merge runs git in the project's sandbox: seconds on a loaded machine.
  await expect.poll(() => drawer.getByTestId("task-status").textContent(), { timeout: 30_000 }).toBe("Done");
  await page
    .getByRole("region", { name: "Done" })
    .getByTestId("task-card")
    .filter({ hasText: "Write the release notes for 1.0" })
    .waitFor();
  await drawer.getByTestId("comment").filter({ hasText: "Approved and merged" }).waitFor();
  const notes = await apiGet<FileContent>(`/api/orgs/${org}/projects/review-app/files/content?path=NOTES.md`);
  expect(notes.content).toBe(FIXED);
  await shot("board-approved");
}, 60_000);

it("adds an automation rule in the rules editor and sees it fire on a new task", async () => {
  onFailure();
  await drawerOf(1).getByRole("button", { name: "Close" }).click();
  await page.getByRole("button", { name: "Automation rules" }).click();
  const rules = page.getByRole("region", { name: "Automation rules" });
  await rules.getByRole("button", { name: "New rule" }).click();
  const dialog = page.getByRole("dialog", { name: "New automation rule" });

  // Nothing filled in: the name and the comment are named as missing, nothing is sent.
  await dialog.getByLabel("Action 1 type").selectOption("comment");
  await dialog.getByRole("button", { name: "Add rule" }).click();
  await dialog.getByRole("alert").first().waitFor();
  expect(await dialog.getByRole("alert").count()).toBeGreaterThanOrEqual(2);

  await dialog.getByLabel("Rule name").fill("Welcome docs tasks");
  await dialog.getByLabel("Trigger").selectOption("task_created");
  await dialog.getByLabel("Labels include").fill("docs");
  await dialog.getByLabel("Action 1 comment").fill("Thanks! A docs task gets a look within a day.");
  await dialog.getByRole("button", { name: "Add an action" }).click();
  await dialog.getByLabel("Action 2 type").selectOption("assign");
  await dialog.getByLabel("Action 2 assignee").selectOption("agent");
  await shot("board-rule-editor");
  await dialog.getByRole("button", { name: "Add rule" }).click();
  await dialog.waitFor({ state: "hidden" });
  const rule = rules.getByTestId("rule").filter({ hasText: "Welcome docs tasks" });
  const said = await rule.textContent();
  expect(said).toContain('when a task is created and labelled docs: comment "Thanks!');
  expect(said).toContain("then assign the agent Kiln");

  // The rule fires on a task it fits.
  await page.getByRole("button", { name: "New task" }).click();
  const create = page.getByRole("dialog", { name: "New task" });
  await create.getByLabel("Title").fill("Document the board");
  await create.getByLabel("Labels").fill("docs");
  await create.getByRole("button", { name: "Create task" }).click();
  const drawer = drawerOf(2);
  await drawer.getByTestId("comment").filter({ hasText: "A docs task gets a look" }).waitFor();
  // Assigned to the built-in agent, named as such.
  await expect.poll(() => drawer.getByTestId("task-assignee").textContent()).toBe("🔥 Kiln");
  await shot("board-rule-fired");
  await drawer.getByRole("button", { name: "Close" }).click();

  // Edit the rule (a higher bar) and switch it off; both stick.
  await rules.getByRole("button", { name: "Edit Welcome docs tasks" }).click();
  const edit = page.getByRole("dialog", { name: "Edit automation rule" });
  expect(await edit.getByLabel("Labels include").inputValue()).toBe("docs");
  await edit.getByLabel("urgent").check();
  await edit.getByRole("button", { name: "Save rule" }).click();
  await edit.waitFor({ state: "hidden" });
  await expect.poll(() => rule.textContent()).toContain("priority urgent");
  await rules.getByLabel("Enable Welcome docs tasks").uncheck();
  await expect.poll(() => rule.textContent()).toContain("(off)");
  await shot("board-rules-editable");

  // The new task becomes a subtask of #1, then goes away.
  await card("Document the board").click();
  await drawer.getByRole("button", { name: "Edit task" }).click();
  await drawer.getByLabel("Parent task").selectOption({ label: "#1 Write the release notes for 1.0" });
  await drawer.getByRole("button", { name: "Save" }).click();
  await drawer.getByText("Subtask of").waitFor();
  await drawer.getByRole("button", { name: "Delete task" }).click();
  await page.getByRole("dialog", { name: "Delete #2?" }).getByRole("button", { name: "Delete task" }).click();
  await drawer.waitFor({ state: "hidden" });
  await card("Document the board").waitFor({ state: "detached" });

  // And the rule goes too.
  await rules.getByRole("button", { name: "Delete Welcome docs tasks" }).click();
  await page
    .getByRole("dialog", { name: 'Delete the rule "Welcome docs tasks"?' })
    .getByRole("button", { name: "Delete rule" })
    .click();
  await rule.waitFor({ state: "detached" });
  // The project's three default rules are left.
  expect(await rules.getByTestId("rule").count()).toBe(3);
  expect(errors).toEqual([]);
}, 120_000);

it("shows the workflow's statuses and moves, and an admin changes a move", async () => {
  onFailure();
  await page.getByRole("button", { name: "Workflow" }).click();
  const dialog = page.getByRole("dialog", { name: "Workflow" });
  const todoToDone = dialog.getByLabel("To do to Done");
  expect(await dialog.getByLabel("Review to Done").isChecked()).toBe(true);
  expect(await todoToDone.isChecked()).toBe(false);
  await todoToDone.check();
  await expect
    .poll(async () => {
      const wf = await apiGet<Workflow>(`/api/orgs/${org}/projects/review-app/workflow`);
      const [todo, done] = ["To do", "Done"].map((n) => wf.statuses.find((s) => s.name === n)!);
      return todo!.transitions.includes(done!.id);
    })
    .toBe(true);
  await expect.poll(() => todoToDone.isChecked()).toBe(true);
  await shot("board-workflow");
  await dialog.getByRole("button", { name: "Close" }).click();

  // At phone width the header's actions and the rules still fit; the columns scroll sideways.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.getByRole("button", { name: "New task" }).waitFor();
  await shot("board-phone");
  await page
    .getByRole("region", { name: "Automation rules" })
    .getByRole("button", { name: "New rule" })
    .click();
  await shot("board-rule-editor-phone");
  await page
    .getByRole("dialog", { name: "New automation rule" })
    .getByRole("button", { name: "Cancel" })
    .click();
  await page.setViewportSize({ width: 1440, height: 900 });
  expect(errors).toEqual([]);
}, 60_000);
