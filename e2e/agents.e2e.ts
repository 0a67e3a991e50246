/**
 * Custom agents (ADR 0035) in a real browser against a real Kiln whose model is the scripted fake provider:
 * the built-in agent reads as read-only and duplicates into the create form; an admin creates "Copy editor"
 * in Settings → Agents, limited to reading and editing files with its own prompt (a field error from the
 * server first), and saves a second version; in a project chat that ran the built-in agent, the header's
 * picker switches the chat to it. The next model call is offered only the agent's tools and told its prompt;
 * the scripted model then forges a `bash` call anyway, and the chat shows it refused — nothing ran. A new
 * chat starts with the picked agent; archiving asks first, and the chats that ran it still name it. A viewer
 * reads agents without controls to change them. Screenshots (desktop and phone): e2e/screenshots/agents-*.png.
 */
import { currentTurn, type RecordedRequest, readConversation } from "@kiln/fake-provider";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { uniqueSlug } from "../packages/server/src/testing/harness.ts";
import { type Studio, shot, shotOnFailure, signUpInBrowser, startStudio } from "./studio-setup.ts";

const PROMPT =
  "You are Copy editor. Fix spelling and grammar in prose files; never change code. (marker: qz-copyedit-7)";
const COPY_EDITOR_TOOLS = ["read_file", "write_file", "edit_file", "list_files", "glob", "grep"];
/** A file the forged command would create, had it run. */
const FORGED = "echo pwned > forged-by-bash.txt";

/** The tool names a model call was offered, in either OpenAI wire shape. */
function offeredTools(request: RecordedRequest): string[] {
  const tools = (request.body as { tools?: Array<{ name?: string; function?: { name?: string } }> }).tools;
  return (tools ?? []).map((t) => t.function?.name ?? t.name ?? "");
}

const systemText = (request: RecordedRequest) =>
  readConversation(request)
    .filter((m) => m.role === "system")
    .map((m) => m.text)
    .join("\n");

const modelCalls = (studio: Studio) =>
  studio.fake!.requests.filter((r) => r.method === "POST" && /\/(chat\/completions|responses)$/.test(r.path));

let studio: Studio;

beforeAll(async () => {
  studio = await startStudio({
    model: {
      responder: (request) => {
        const turn = currentTurn(readConversation(request));
        if (turn.some((m) => m.toolResults.length > 0))
          return { text: "I tried a command; it was not allowed." };
        // The built-in agent (it has bash) just answers; any other agent gets a forged call to bash.
        if (offeredTools(request).includes("bash")) return { text: "Hello from Kiln." };
        return { toolCalls: [{ name: "bash", arguments: { command: FORGED } }] };
      },
    },
  });
}, 120_000);

afterAll(async () => {
  await studio?.close();
});

async function openAgents(page: Page, org: string) {
  await page.goto(`${studio.base}/${org}/settings?tab=agents`);
  await page.getByRole("list", { name: "Agents" }).waitFor();
}

it("an admin makes a restricted agent, a chat switches to it, and its forged bash call is refused", async () => {
  const page = await studio.browser.context.newPage();
  await page.setViewportSize({ width: 1280, height: 900 });
  shotOnFailure(page, "agents");
  const errors: string[] = [];
  page.on("pageerror", (err) => errors.push(err.message));
  const { org } = await signUpInBrowser(page, studio, "Ada Agents");

  // The list: the built-in agent first, marked read-only.
  await openAgents(page, org);
  const rows = page.getByRole("list", { name: "Agents" }).getByRole("listitem");
  await expect.poll(() => rows.first().textContent()).toContain("Built-in · read-only");
  expect(await rows.first().textContent()).toContain("Kiln");

  // The built-in opens read-only, with its prompt; it can be duplicated, not saved.
  await page.getByRole("button", { name: "Open Kiln" }).click();
  const form = page.getByRole("form", { name: "Agent" });
  await form.waitFor();
  expect(await form.getByLabel("System prompt").isDisabled()).toBe(true);
  expect((await form.getByLabel("System prompt").inputValue()).length).toBeGreaterThan(100);
  expect(await form.getByRole("button", { name: /^Save/ }).count()).toBe(0);
  await page.getByRole("button", { name: "Duplicate" }).waitFor();
  await shot(page, "agents-builtin");
  const builtInPrompt = await form.getByLabel("System prompt").inputValue();

  // Duplicating it opens the create form with its words and tools, editable.
  await page.getByRole("button", { name: "Duplicate" }).click();
  await page.getByRole("heading", { name: "New agent" }).waitFor();
  expect(await form.getByLabel("Name", { exact: true }).inputValue()).toBe("Kiln (copy)");
  expect(await form.getByLabel("System prompt").inputValue()).toBe(builtInPrompt);
  expect(await form.getByLabel("System prompt").isDisabled()).toBe(false);
  expect(await form.getByRole("checkbox", { name: /^bash\b/ }).isChecked()).toBe(true);
  await form.getByRole("button", { name: "Cancel" }).click();

  // A new agent: a field error from the server first (an icon with a space), then the real thing.
  await page.getByRole("button", { name: "New agent" }).click();
  await form.getByLabel("Icon").fill("✏️ x");
  await form.getByLabel("Name", { exact: true }).fill("Copy editor");
  await form.getByLabel("Description").fill("Fixes prose; never runs commands");
  await form.getByLabel("System prompt").fill(PROMPT);
  await page.getByText(`${PROMPT.length} / 20,000 characters`).waitFor();
  for (const t of COPY_EDITOR_TOOLS)
    await form.getByRole("checkbox", { name: new RegExp(`^${t}\\b`) }).check();
  await form.getByRole("button", { name: "Create agent" }).click();
  await form
    .getByRole("alert")
    .filter({ hasText: /emoji|icon/i })
    .waitFor();
  await form.getByLabel("Icon").fill("✏️");
  await form.getByRole("button", { name: "Create agent" }).click();
  await page.getByRole("button", { name: "Open Copy editor" }).waitFor();
  expect(await rows.nth(1).textContent()).toContain("v1");
  await shot(page, "agents-list");

  // An edit is a new version; the versions list shows both.
  await page.getByRole("button", { name: "Open Copy editor" }).click();
  await form.getByLabel("Description").fill("Fixes spelling and grammar; never runs commands");
  await form.getByRole("button", { name: "Save as version 2" }).click();
  const versions = page.getByRole("list", { name: "Versions" }).getByRole("listitem");
  await expect.poll(() => versions.count()).toBe(2);
  expect(await versions.first().textContent()).toContain("v2");
  expect(await form.getByRole("checkbox", { name: /^bash\b/ }).isChecked()).toBe(false);
  await shot(page, "agents-editor");

  // A project whose chat first runs the built-in agent.
  await page.goto(`${studio.base}/${org}`);
  await page.evaluate(() =>
    localStorage.setItem("kiln.workspace-ui", JSON.stringify({ state: { previewOpen: false }, version: 0 })),
  );
  await page.getByRole("button", { name: "New project" }).click();
  const create = page.getByRole("dialog", { name: "New project" });
  await create.getByLabel("Project name").fill("Docs site");
  await create.locator("[data-template=static]").click();
  await create.getByRole("button", { name: "Create project" }).click();
  await page.waitForURL(`${studio.base}/${org}/docs-site`);
  const chat = page.getByRole("region", { name: "Chat" });
  const composer = chat.getByLabel("Message the agent");
  const turn = (i: number) => chat.locator("li[data-role=assistant]").nth(i);
  const picker = chat.getByTestId("agent-picker");
  await expect.poll(() => picker.textContent(), { timeout: 15_000 }).toContain("Kiln");
  await composer.fill("hello");
  await composer.press("Enter");
  await expect.poll(() => turn(0).getAttribute("data-status"), { timeout: 30_000 }).toBe("completed");
  await turn(0).getByText("Hello from Kiln.").waitFor();

  // Switch the chat to Copy editor: the header says so, with the version it runs.
  await picker.click();
  await page.getByRole("menuitemradio", { name: /Copy editor/ }).click();
  await expect.poll(() => picker.textContent()).toBe("✏️Copy editorv2");

  // Its turn: offered only its tools, told its prompt; the forged bash call is refused and nothing ran.
  const before = modelCalls(studio).length;
  await composer.fill("tidy the README");
  await composer.press("Enter");
  await expect.poll(() => turn(1).getAttribute("data-status"), { timeout: 60_000 }).toBe("completed");
  const calls = modelCalls(studio).slice(before);
  expect(calls.length).toBe(2);
  const first = calls[0]!;
  expect(offeredTools(first).sort()).toEqual([...COPY_EDITOR_TOOLS].sort());
  expect(systemText(first)).toContain(PROMPT);
  const result = currentTurn(readConversation(calls[1]!)).flatMap((m) => m.toolResults);
  expect(result).toHaveLength(1);
  // The OpenAI wire has no error flag on a tool result: an error goes back as `{"error": "…"}`.
  expect(JSON.parse(result[0]!.output)).toEqual({
    error: expect.stringMatching(/^Unknown tool "bash": not one of this agent's tools, so it did not run/),
  });

  const card = turn(1).locator("[data-tool=bash][data-refused]");
  await card.waitFor();
  expect(await card.textContent()).toContain("not allowed");
  expect(await card.getByRole("note").textContent()).toContain("nothing ran");
  await turn(1).getByText("I tried a command; it was not allowed.").waitFor();
  // The command's file was never written.
  const listing = await page.evaluate(
    async ([o]) => {
      const res = await fetch(`/api/orgs/${o}/projects/docs-site/files/tree`);
      return { status: res.status, text: await res.text() };
    },
    [org],
  );
  expect(listing.status).toBe(200);
  expect(listing.text).toContain("index.html");
  expect(listing.text).not.toContain("forged-by-bash");
  // With two agents in the chat, each answer says which version ran it.
  expect(await turn(0).getByTestId("message-agent").textContent()).toBe("🔥 Kiln v1");
  expect(await turn(1).getByTestId("message-agent").textContent()).toBe("✏️ Copy editor v2");
  await shot(page, "agents-chat-refused");

  // A new chat starts with the agent picked before its first message.
  await chat.getByRole("button", { name: "New chat" }).click();
  await expect.poll(() => picker.textContent()).toBe("🔥Kilnv1");
  await picker.click();
  await page.getByRole("menuitemradio", { name: /Copy editor/ }).click();
  await expect.poll(() => picker.textContent()).toBe("✏️Copy editorv2");
  const beforeNew = modelCalls(studio).length;
  await composer.fill("check the spelling");
  await composer.press("Enter");
  await expect.poll(() => turn(0).getAttribute("data-status"), { timeout: 60_000 }).toBe("completed");
  expect(offeredTools(modelCalls(studio)[beforeNew]!)).not.toContain("bash");
  await turn(0).locator("[data-tool=bash][data-refused]").waitFor();
  expect(await picker.textContent()).toBe("✏️Copy editorv2");

  // At phone width: the header's picker still fits, and the settings list reads.
  await page.setViewportSize({ width: 390, height: 844 });
  await picker.waitFor();
  const box = await picker.boundingBox();
  expect(box && box.x + box.width).toBeLessThanOrEqual(390);
  await shot(page, "agents-chat-phone");
  await openAgents(page, org);
  await shot(page, "agents-list-phone");
  await page.getByRole("button", { name: "Open Copy editor" }).click();
  await form.waitFor();
  await shot(page, "agents-editor-phone");

  // Archived after a confirmation: it leaves the list, and the chats that run it still say which.
  await form.getByRole("button", { name: "Cancel" }).click();
  await page.getByRole("button", { name: "Archive Copy editor" }).click();
  const confirm = page.getByRole("dialog", { name: "Archive “Copy editor”?" });
  await confirm.getByRole("button", { name: "Archive agent" }).click();
  await expect.poll(() => rows.count()).toBe(1);
  await page.goto(`${studio.base}/${org}/docs-site`);
  await expect.poll(() => picker.textContent(), { timeout: 20_000 }).toBe("✏️Copy editorv2");
  await chat.getByRole("button", { name: "Switch chat" }).click();
  await page.getByRole("menuitem", { name: /^hello/ }).click();
  await expect
    .poll(() => turn(1).getByTestId("message-agent").textContent(), { timeout: 20_000 })
    .toBe("Archived agent v2");

  expect(errors).toEqual([]);
  await page.close();
}, 300_000);

it("a viewer reads the org's agents but gets no controls to change them", async () => {
  const { kiln, base } = studio;
  const owner = await kiln.signup({ name: "Olga Owner" });
  const org = uniqueSlug("agents");
  expect((await owner.client.post("/api/orgs", { name: "Docs Team", slug: org })).statusCode).toBe(201);
  const made = await owner.client.post(`/api/orgs/${org}/agents`, {
    name: "Reviewer",
    icon: "🔎",
    description: "Reads and comments; changes nothing",
    systemPrompt: "You review code and never change it.",
    tools: ["read_file", "list_files", "grep"],
  });
  expect(made.statusCode).toBe(201);
  const viewer = await kiln.signup({ name: "Vera Viewer" });
  const invited = await owner.client.post(`/api/orgs/${org}/invitations`, {
    email: viewer.user.email,
    role: "viewer",
  });
  const token = new URL(invited.json().url).pathname.split("/").at(-1);
  expect((await viewer.client.post(`/api/invitations/${token}/accept`)).statusCode).toBe(200);

  const page = await studio.browser.context.newPage();
  await page.setViewportSize({ width: 1280, height: 900 });
  shotOnFailure(page, "agents-viewer");
  const errors: string[] = [];
  page.on("pageerror", (err) => errors.push(err.message));
  await studio.browser.context.clearCookies();
  await page.goto(`${base}/login`);
  await page.getByLabel("Email").fill(viewer.user.email);
  await page.getByLabel("Password").fill(viewer.password);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("heading", { name: "Projects" }).waitFor();
  await openAgents(page, org);
  await page.getByRole("button", { name: "Open Reviewer" }).waitFor();
  expect(await page.getByRole("button", { name: "New agent" }).count()).toBe(0);
  expect(await page.getByRole("button", { name: /^Archive/ }).count()).toBe(0);
  expect(await page.getByRole("button", { name: "Open Reviewer" }).textContent()).toBe("View");

  await page.getByRole("button", { name: "Open Reviewer" }).click();
  const form = page.getByRole("form", { name: "Agent" });
  await form.waitFor();
  expect(await form.getByLabel("Name", { exact: true }).isDisabled()).toBe(true);
  expect(await form.getByRole("checkbox", { name: /^grep\b/ }).isChecked()).toBe(true);
  expect(await form.getByRole("button", { name: /^Save/ }).count()).toBe(0);
  await page.getByText("your role can read it, not change it").waitFor();
  await shot(page, "agents-viewer");
  expect(errors).toEqual([]);
  await page.close();
}, 120_000);
