/**
 * The studio in a real browser against a real Kiln (PGlite, sandboxed dev servers): sign up, create a
 * react-vite project from the dashboard, see its preview, edit a file in Monaco and save it, see the
 * preview change, run a command in the terminal, log out; a user of another org gets "not found" for the
 * project's URL. Screenshots of each screen go to e2e/screenshots/. The studio must never call out to
 * another host: everything it loads comes from the Kiln server or the project's preview origin.
 */
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { freePort } from "../packages/server/src/testing/free-port.ts";
import { startTestKiln, type TestKiln } from "../packages/server/src/testing/harness.ts";
import { type Browser, launchChromium } from "./chromium.ts";
import { enterMailedCode } from "./verify-email.ts";

const SCREENSHOTS = path.join(path.dirname(fileURLToPath(import.meta.url)), "screenshots");
const PASSWORD = "correct horse battery";

let kiln: TestKiln;
let browser: Browser;
let base: string;

/** A free port, so the studio's public URL (its origin: cookies, the terminal's Origin check) is exact. */

beforeAll(async () => {
  const port = await freePort();
  base = `http://localhost:${port}`;
  [kiln, browser] = await Promise.all([startTestKiln({ env: { KILN_PUBLIC_URL: base } }), launchChromium()]);
  await kiln.app.listen({ port, host: "127.0.0.1" });
  await mkdir(SCREENSHOTS, { recursive: true });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await kiln?.stop();
});

const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`) });

function uniqueEmail(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}@example.com`;
}

async function signUp(page: Page, name: string, email: string): Promise<string> {
  await page.goto(`${base}/signup`);
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await enterMailedCode(page, kiln, email);
  await page.getByRole("heading", { name: "Projects" }).waitFor();
  return new URL(page.url()).pathname.split("/")[1]!;
}

it("takes a new user from sign-up to an edited, previewed, terminal-tested project", async () => {
  const page = await browser.context.newPage();
  await page.setViewportSize({ width: 1280, height: 800 });
  const hosts = new Set<string>();
  const record = (url: string) => {
    const u = new URL(url);
    if (u.protocol.startsWith("http") || u.protocol.startsWith("ws")) hosts.add(u.host);
  };
  const requested: string[] = [];
  page.on("request", (r) => {
    record(r.url());
    requested.push(r.url());
  });
  page.on("websocket", (ws) => record(ws.url()));
  const errors: string[] = [];
  page.on("pageerror", (err) => errors.push(err.message));

  // Sign up → the personal org's dashboard, empty.
  const org = await signUp(page, "Maya Tester", uniqueEmail("maya"));
  await page.getByText("No projects yet").waitFor();
  await shot(page, "dashboard-empty");

  // Create a project from the react-vite template; the dialog shows each template with its description.
  await page.getByRole("button", { name: "New project" }).click();
  const dialog = page.getByRole("dialog", { name: "New project" });
  await dialog.getByText("React + Vite").waitFor();
  await dialog.getByText("Plain HTML, CSS and JavaScript").waitFor();
  await dialog.getByLabel("Project name").fill("Habit tracker");
  await dialog.locator("[data-template=react-vite]").click();
  await shot(page, "create-project");
  await dialog.getByRole("button", { name: "Create project" }).click();

  // The workspace opens and the preview shows the template's page.
  await page.waitForURL(`${base}/${org}/habit-tracker`);
  const preview = page.frameLocator('iframe[title="App preview"]');
  await preview.getByRole("heading", { name: "Your app starts here" }).waitFor({ timeout: 90_000 });
  await page.getByText("Dev server: Running").waitFor();
  await shot(page, "workspace");

  // Monaco is megabytes: it must not load until a file is opened.
  const loaded = () => [...new Set(requested)].filter((u) => /code-editor|editor\.api/.test(u));
  expect(loaded()).toEqual([]);

  // Edit src/App.tsx in Monaco as a person would: find the heading text, type over it, Ctrl-S.
  await page.getByRole("treeitem", { name: "App.tsx" }).click();
  const tab = page.getByRole("tab", { name: /App\.tsx/ });
  const lines = page.locator(".monaco-editor .view-lines");
  await lines.getByText("export function App()").waitFor();
  expect(loaded().length).toBeGreaterThan(0);
  await lines.click();
  await page.keyboard.press("Control+f");
  await page.keyboard.type("app starts");
  await page.keyboard.press("Escape");
  await page.keyboard.type("app grows");
  await expect.poll(() => tab.getAttribute("data-dirty")).toBe("true");
  await shot(page, "workspace-editor");
  await page.keyboard.press("Control+s");
  await expect.poll(() => tab.getAttribute("data-dirty"), { timeout: 10_000 }).toBeNull();
  await preview.getByRole("heading", { name: "Your app grows here" }).waitFor({ timeout: 20_000 });
  const files = `/api/orgs/${org}/projects/habit-tracker/files/content?path=src/App.tsx`;
  const saved = await page.evaluate(
    async (url) => ((await (await fetch(url)).json()) as { content: string }).content,
    files,
  );
  expect(saved).toContain("Your app grows here");

  // A change made elsewhere (another tab, the agent) shows up in the open, unmodified editor by itself.
  const csrf = (await browser.context.cookies(base)).find((c) => c.name === "kiln_csrf")?.value ?? "";
  await page.evaluate(
    async ({ url, content, csrf }) => {
      const res = await fetch(url, {
        method: "PUT",
        headers: { "content-type": "application/json", "x-csrf-token": csrf },
        body: JSON.stringify({ path: "src/App.tsx", content }),
      });
      if (!res.ok) throw new Error(`write failed: ${res.status}`);
    },
    {
      url: `/api/orgs/${org}/projects/habit-tracker/files/content`,
      content: saved.replace("Your app grows here", "Written elsewhere"),
      csrf: decodeURIComponent(csrf),
    },
  );
  await lines.getByText("Written elsewhere").waitFor({ timeout: 10_000 });
  await preview.getByRole("heading", { name: "Written elsewhere" }).waitFor({ timeout: 20_000 });
  expect(await tab.getAttribute("data-dirty")).toBeNull();

  // "Open preview in a new tab": the app on its own origin, signed in through a hand-off link, with no
  // handle on the studio's window (reverse tabnabbing).
  const [popup] = await Promise.all([
    browser.context.waitForEvent("page"),
    page.getByRole("button", { name: "Open preview in a new tab" }).click(),
  ]);
  await popup.getByRole("heading", { name: "Written elsewhere" }).waitFor({ timeout: 30_000 });
  expect(new URL(popup.url()).host).toBe(`habit-tracker--${org}.${new URL(base).host}`);
  expect(await popup.evaluate("window.opener === null")).toBe(true);
  await popup.close();

  // New file from the tree: it is created and opens in a tab.
  await page.getByRole("button", { name: "New file" }).click();
  await page.getByLabel("File name").fill("notes.md");
  await page.keyboard.press("Enter");
  await page.getByRole("tab", { name: /notes\.md/ }).waitFor();
  await page.getByRole("treeitem", { name: "notes.md" }).waitFor();

  // The terminal: a shell in the sandbox.
  await page.getByRole("button", { name: /Toggle terminal/ }).click();
  const terminal = page.getByTestId("terminal");
  await terminal.waitFor();
  await page.getByText("Connected", { exact: true }).waitFor({ timeout: 20_000 });
  await terminal.click();
  await page.keyboard.type("echo hello-$((40+2))");
  await page.keyboard.press("Enter");
  await terminal.locator(".xterm-rows").getByText("hello-42", { exact: true }).waitFor({ timeout: 15_000 });
  // A file a command makes in the sandbox appears in the tree by itself (the file-change stream; the
  // tree's fallback poll is 30 s while the stream is open, longer than this wait).
  await page.keyboard.type("mkdir -p src/made && echo made > src/made/by-shell.ts");
  await page.keyboard.press("Enter");
  await page.getByRole("treeitem", { name: "made" }).waitFor({ timeout: 5_000 });
  expect(requested.some((u) => u.endsWith("/projects/habit-tracker/files/events"))).toBe(true);
  await shot(page, "workspace-terminal");

  await page.getByRole("tab", { name: /Dev server logs/ }).click();
  await page.getByRole("log", { name: "Dev server output" }).waitFor();
  await shot(page, "workspace-logs");

  // The access token cookie is gone (expired): the studio refreshes the session and carries on.
  await browser.context.clearCookies({ name: "kiln_at" });
  await page.reload();
  await page.getByRole("treeitem", { name: "App.tsx" }).waitFor();
  expect(new URL(page.url()).pathname).toBe(`/${org}/habit-tracker`);

  // Another host of the site tossed a second kiln_at with a longer path, which the browser sends first: the
  // server refuses to guess which is the user's and clears every copy; the studio refreshes and carries on.
  await browser.context.addCookies([{ name: "kiln_at", value: "tossed", url: `${base}/api/orgs` }]);
  const accessCookies = async () =>
    (await browser.context.cookies(`${base}/api/orgs`))
      .filter((c) => c.name === "kiln_at")
      .map((c) => c.path);
  expect((await accessCookies()).sort()).toEqual(["/", "/api/"]);
  await page.reload();
  await page.getByRole("treeitem", { name: "App.tsx" }).waitFor();
  expect(new URL(page.url()).pathname).toBe(`/${org}/habit-tracker`);
  expect(await accessCookies()).toEqual(["/"]);

  // Settings and, at phone width, the dashboard.
  await page.goto(`${base}/${org}/settings?tab=members`);
  await page.getByRole("cell", { name: /Maya Tester/ }).waitFor();
  await shot(page, "settings-members");
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${base}/${org}`);
  await page.getByRole("link", { name: "Open Habit tracker" }).waitFor();
  await shot(page, "dashboard-phone");
  await page.setViewportSize({ width: 1280, height: 800 });

  // Log out.
  await page.getByRole("button", { name: "Account menu" }).click();
  await page.getByRole("menuitem", { name: "Log out" }).click();
  await page.getByRole("heading", { name: "Log in to Kiln" }).waitFor();
  await shot(page, "login");

  // Nothing but the studio and the project's preview origin was ever contacted.
  const previewHost = `habit-tracker--${org}.${new URL(base).host}`;
  expect([...hosts].sort()).toEqual([new URL(base).host, previewHost].sort());
  expect(errors).toEqual([]);

  // Someone from another org opening the project's URL gets "not found", and none of the project's data.
  const responses: string[] = [];
  page.on("response", async (r) => {
    if (r.url().includes("/api/") && r.request().resourceType() === "fetch") {
      responses.push(await r.text().catch(() => ""));
    }
  });
  await signUp(page, "Other Person", uniqueEmail("other"));
  await page.goto(`${base}/${org}/habit-tracker`);
  await page.getByRole("heading", { name: "Not found" }).waitFor();
  expect(await page.content()).not.toContain("Habit tracker");
  expect(responses.join("\n")).not.toContain("habit-tracker");
  await shot(page, "not-found");
  await page.close();
}, 150_000);
