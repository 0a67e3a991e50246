/**
 * Board jobs run a chosen agent (ADR 0036), in a real browser against a real Kiln with an in-process worker
 * and the scripted fake provider as the model: an admin creates "Copy editor" (read and edit tools only, its
 * own prompt) in Settings → Agents, then an automation rule in the board's rules editor that assigns a new
 * "copy" task to Copy editor and starts an implement job by it. A task created in Backlog gets both: its
 * card names the agent, the job runs, and the model call it made was offered Copy editor's tools (no `bash`)
 * and told its prompt; the drawer says the job ran "Copy editor v1", and its comment and the task's activity
 * name the agent. The task's assignee select offers the org's agents. Screenshots (desktop and phone): e2e/screenshots/board-agent-*.png.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { currentTurn, type RecordedRequest, readConversation } from "@kiln/fake-provider";
import type { FastifyBaseLogger } from "fastify";
import pino from "pino";
import { afterAll, beforeAll, expect, it } from "vitest";
import { KilnWorker } from "../packages/server/src/worker/client.ts";
import { type Studio, shot, shotOnFailure, signUpInBrowser, startStudio } from "./studio-setup.ts";

const WORKER_TOKEN = "kiln_wrk_board_agents_e2e_0123456789abcdef0123456789ab";
const PROMPT =
  "You are Copy editor. Fix spelling and grammar in prose files; never change code. (marker: qz-board-ce-3)";
const COPY_EDITOR_TOOLS = ["read_file", "write_file", "edit_file", "list_files", "glob", "grep"];
const SUMMARY = "Fixed the spelling in NOTES.md.";

function offeredTools(request: RecordedRequest): string[] {
  const tools = (request.body as { tools?: Array<{ name?: string; function?: { name?: string } }> }).tools;
  return (tools ?? []).map((t) => t.function?.name ?? t.name ?? "");
}

const systemText = (request: RecordedRequest) =>
  readConversation(request)
    .filter((m) => m.role === "system")
    .map((m) => m.text)
    .join("\n");

const modelCalls = (s: Studio) =>
  s.fake!.requests.filter((r) => r.method === "POST" && /\/(chat\/completions|responses)$/.test(r.path));

let studio: Studio;
let worker: KilnWorker;
let workDir: string;

beforeAll(async () => {
  studio = await startStudio({
    env: { KILN_WORKER_TOKEN: WORKER_TOKEN },
    model: {
      responder: (request) => {
        const conversation = readConversation(request);
        if (conversation.some((m) => m.role === "system" && m.text.includes("You are reviewing")))
          return { text: "Review: the spelling is right now. No problems found." };
        if (currentTurn(conversation).some((m) => m.toolResults.length > 0)) return { text: SUMMARY };
        return {
          toolCalls: [{ name: "write_file", arguments: { path: "NOTES.md", content: "# Release notes\n" } }],
        };
      },
    },
  });
  workDir = await mkdtemp(path.join(os.tmpdir(), "kiln-board-agents-e2e-"));
  worker = new KilnWorker({
    server: `http://127.0.0.1:${studio.port}`,
    token: WORKER_TOKEN,
    concurrency: 1,
    driver: studio.kiln.driver,
    workDir,
    log: pino({ level: process.env.KILN_TEST_LOG ?? "silent" }) as FastifyBaseLogger,
  });
  await worker.start();
}, 120_000);

afterAll(async () => {
  await worker?.stop();
  await studio?.close();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

it("a rule hands a new task to Copy editor, whose job runs with its tools and prompt", async () => {
  const page = await studio.browser.context.newPage();
  await page.setViewportSize({ width: 1440, height: 900 });
  shotOnFailure(page, "board-agents");
  const errors: string[] = [];
  page.on("pageerror", (err) => errors.push(err.message));
  const { org } = await signUpInBrowser(page, studio, "Cora Copy");

  // Copy editor: reading and editing files only, with its own prompt.
  await page.goto(`${studio.base}/${org}/settings?tab=agents`);
  await page.getByRole("list", { name: "Agents" }).waitFor();
  await page.getByRole("button", { name: "New agent" }).click();
  const form = page.getByRole("form", { name: "Agent" });
  await form.getByLabel("Icon").fill("✏️");
  await form.getByLabel("Name", { exact: true }).fill("Copy editor");
  await form.getByLabel("System prompt").fill(PROMPT);
  for (const t of COPY_EDITOR_TOOLS)
    await form.getByRole("checkbox", { name: new RegExp(`^${t}\\b`) }).check();
  await form.getByRole("button", { name: "Create agent" }).click();
  await page.getByRole("button", { name: "Open Copy editor" }).waitFor();

  // A project and its board.
  await page.goto(`${studio.base}/${org}`);
  await page.evaluate(() =>
    localStorage.setItem("kiln.workspace-ui", JSON.stringify({ state: { previewOpen: false }, version: 0 })),
  );
  await page.getByRole("button", { name: "New project" }).click();
  const create = page.getByRole("dialog", { name: "New project" });
  await create.getByLabel("Project name").fill("Copy app");
  await create.locator("[data-template=static]").click();
  await create.getByRole("button", { name: "Create project" }).click();
  await page.waitForURL(`${studio.base}/${org}/copy-app`);
  await page.getByRole("link", { name: "Board", exact: true }).click();
  await page.getByRole("region", { name: "Backlog" }).waitFor();

  // The rule, through the rules editor: a new "copy" task goes to Copy editor, and Copy editor starts on it.
  await page.getByRole("button", { name: "Automation rules" }).click();
  const rules = page.getByRole("region", { name: "Automation rules" });
  await rules.getByRole("button", { name: "New rule" }).click();
  const dialog = page.getByRole("dialog", { name: "New automation rule" });
  await dialog.getByLabel("Rule name").fill("Copy tasks to Copy editor");
  await dialog.getByLabel("Trigger").selectOption("task_created");
  await dialog.getByLabel("Labels include").fill("copy");
  await dialog.getByLabel("Action 1 type").selectOption("assign");
  const assign = dialog.getByLabel("Action 1 assignee");
  expect(await assign.locator("option").allTextContents()).toEqual(
    expect.arrayContaining(["Agent: 🔥 Kiln", "Agent: ✏️ Copy editor"]),
  );
  await assign.selectOption({ label: "Agent: ✏️ Copy editor" });
  await dialog.getByRole("button", { name: "Add an action" }).click();
  await dialog.getByLabel("Action 2 type").selectOption("start_job");
  const jobAgent = dialog.getByLabel("Action 2 agent");
  expect(await jobAgent.locator("option").allTextContents()).toEqual([
    "The task's agent",
    "🔥 Kiln",
    "✏️ Copy editor",
  ]);
  await jobAgent.selectOption({ label: "✏️ Copy editor" });
  await shot(page, "board-agent-rule");
  await dialog.getByRole("button", { name: "Add rule" }).click();
  await dialog.waitFor({ state: "hidden" });
  const said = await rules.getByTestId("rule").filter({ hasText: "Copy tasks to Copy editor" }).textContent();
  expect(said).toContain("assign the agent Copy editor, then start an implement job by Copy editor");
  await page.getByRole("button", { name: "Automation rules" }).click();

  // A task in Backlog (no default rule starts it there): the rule assigns it and Copy editor's job runs.
  const before = modelCalls(studio).length;
  await page.getByRole("button", { name: "New task" }).click();
  const newTask = page.getByRole("dialog", { name: "New task" });
  await newTask.getByLabel("Title").fill("Fix the typos in the notes");
  await newTask.getByLabel("Status").selectOption({ label: "Backlog" });
  await newTask.getByLabel("Labels").fill("copy");
  await newTask.getByRole("button", { name: "Create task" }).click();
  const drawer = page.getByRole("complementary", { name: "Task #1" });
  await expect.poll(() => drawer.getByTestId("task-assignee").textContent()).toBe("✏️ Copy editor");
  await expect
    .poll(() => drawer.getByTestId("comment").allTextContents(), { timeout: 90_000 })
    .toEqual(expect.arrayContaining([expect.stringContaining(SUMMARY)]));

  // The model call the implement job made: Copy editor's tools, never bash, and its prompt.
  const implement = modelCalls(studio)
    .slice(before)
    .find((r) => !systemText(r).includes("You are reviewing"));
  expect(implement).toBeDefined();
  const tools = offeredTools(implement!);
  expect(tools).not.toContain("bash");
  expect(tools).toContain("write_file");
  expect(tools.every((t) => COPY_EDITOR_TOOLS.includes(t))).toBe(true);
  expect(systemText(implement!)).toContain(PROMPT);

  // The drawer: the implement job ran Copy editor's version 1; the assignee select offers the org's agents.
  await drawer.getByRole("button", { name: /^implement/ }).click();
  await expect.poll(() => drawer.getByTestId("job-agent").textContent()).toBe("✏️ Copy editor v1");
  const assignee = drawer.getByLabel("Assignee");
  expect(await assignee.locator("option:checked").textContent()).toBe("Agent: ✏️ Copy editor");
  const card = page.getByTestId("task-card").filter({ hasText: "Fix the typos in the notes" });
  expect(await card.getByTestId("task-assignee").textContent()).toBe("✏️ Copy editor");
  // Its comment and the task's activity name the agent, not just "Agent".
  const summary = drawer.getByTestId("comment").filter({ hasText: SUMMARY });
  expect(await summary.textContent()).toContain("✏️ Copy editor");
  const activity = drawer.getByRole("region", { name: "Activity" });
  await expect.poll(() => activity.textContent()).toContain("assigned it to the agent ✏️ Copy editor");
  await shot(page, "board-agent-drawer");

  // On a phone.
  await page.setViewportSize({ width: 390, height: 844 });
  await drawer.getByTestId("job-agent").scrollIntoViewIfNeeded();
  await shot(page, "board-agent-drawer-phone");
  expect(errors).toEqual([]);
  await page.close();
}, 240_000);
