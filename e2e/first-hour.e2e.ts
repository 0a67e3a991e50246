/**
 * Small things a new user meets in the first hour: a signed-out visit logs no error in the console (no
 * 401 from asking who is signed in), the task drawer leaves "Back to code" clickable, and the dashboard's
 * order follows the projects' file changes.
 */
import type { ConsoleMessage, Page, Response } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { freePort } from "../packages/server/src/testing/free-port.ts";
import type { SignedUp } from "../packages/server/src/testing/harness.ts";
import { startTestKiln, type TestKiln } from "../packages/server/src/testing/harness.ts";
import { type Browser, launchChromium } from "./chromium.ts";

let kiln: TestKiln;
let browser: Browser;
let base: string;

beforeAll(async () => {
  const port = await freePort();
  base = `http://localhost:${port}`;
  [kiln, browser] = await Promise.all([startTestKiln({ env: { KILN_PUBLIC_URL: base } }), launchChromium()]);
  await kiln.app.listen({ port, host: "127.0.0.1" });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await kiln?.stop();
});

/** Console errors, failed requests and 4xx/5xx answers, as a user's devtools would show them. */
function watchProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on("console", (m: ConsoleMessage) => {
    if (m.type() === "error") problems.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
  page.on("requestfailed", (r) => problems.push(`failed: ${r.url()} ${r.failure()?.errorText ?? ""}`));
  page.on("response", (r: Response) => {
    if (r.status() >= 400) problems.push(`${r.status()}: ${r.url()}`);
  });
  return problems;
}

/** Logs `user` in through the form, as a person would. */
async function logIn(page: Page, user: SignedUp): Promise<void> {
  // One browser profile for every test here: whoever was signed in before is not.
  await browser.context.clearCookies();
  await page.goto(`${base}/login`);
  await page.getByLabel("Email").fill(user.user.email);
  await page.getByLabel("Password").fill(user.password);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("heading", { name: "Projects" }).waitFor();
}

it("a signed-out visit, before and after a session, logs no error and asks no one who is signed in", async () => {
  const page = await browser.context.newPage();
  const problems = watchProblems(page);
  const asked: string[] = [];
  page.on("request", (r) => {
    if (new URL(r.url()).pathname === "/api/auth/me") asked.push(r.url());
  });

  await page.goto(`${base}/`);
  await page.getByRole("heading", { name: "Log in to Kiln" }).waitFor();
  await page.goto(`${base}/login`);
  await page.getByRole("heading", { name: "Log in to Kiln" }).waitFor();
  await page.goto(`${base}/signup`);
  await page.getByLabel("Password").waitFor();
  await page.waitForLoadState("networkidle");
  expect(problems).toEqual([]);
  expect(asked).toEqual([]);

  // Signed in, the studio does ask (and gets its answer); logged out again, it stops asking.
  const user = await kiln.signup();
  await logIn(page, user);
  expect(asked.length).toBeGreaterThan(0);
  await page.getByRole("button", { name: "Account menu" }).click();
  await page.getByRole("menuitem", { name: "Log out" }).click();
  await page.getByRole("heading", { name: "Log in to Kiln" }).waitFor();
  problems.length = 0;
  asked.length = 0;
  await page.goto(`${base}/`);
  await page.getByRole("heading", { name: "Log in to Kiln" }).waitFor();
  await page.reload();
  await page.getByRole("heading", { name: "Log in to Kiln" }).waitFor();
  await page.waitForLoadState("networkidle");
  expect(problems).toEqual([]);
  expect(asked).toEqual([]);
  await page.close();
}, 120_000);

it("the task drawer leaves the workspace header usable: Back to code is clicked through", async () => {
  const user = await kiln.signup();
  const org = user.personalOrg.slug;
  const created = await user.client.post(`/api/orgs/${org}/projects`, { name: "Drawer", template: "static" });
  expect(created.statusCode).toBe(201);
  const project = created.json().slug as string;
  const page = await browser.context.newPage();
  await page.setViewportSize({ width: 1280, height: 800 });
  await logIn(page, user);
  // No preview pane: the header and the drawer are what is tested, not the dev server.
  await page.evaluate(
    `localStorage.setItem("kiln.workspace-ui", JSON.stringify({ state: { previewOpen: false }, version: 0 }))`,
  );

  await page.goto(`${base}/${org}/${project}?view=board`);
  await page.getByRole("button", { name: "New task" }).click();
  const dialog = page.getByRole("dialog", { name: "New task" });
  await dialog.getByLabel("Title").fill("Check the header");
  await dialog.getByRole("button", { name: "Create task" }).click();
  const drawer = page.getByRole("complementary", { name: "Task #1" });
  await drawer.getByRole("heading", { name: "Check the header" }).waitFor();

  // With the drawer open, the click reaches the link (Playwright refuses an element covered by another).
  await page.getByRole("link", { name: "Back to code" }).click({ timeout: 5_000 });
  await page.waitForURL(`${base}/${org}/${project}`);
  await page.getByRole("button", { name: "Toggle chat" }).waitFor();
  await page.close();
}, 120_000);

it("a project whose files changed moves to the front of the dashboard", async () => {
  const user = await kiln.signup();
  const org = user.personalOrg.slug;
  const make = async (name: string) => {
    const res = await user.client.post(`/api/orgs/${org}/projects`, { name, template: "static" });
    expect(res.statusCode).toBe(201);
    return res.json().slug as string;
  };
  const older = await make("Older");
  await make("Newer");
  const page = await browser.context.newPage();
  await logIn(page, user);
  const order = async () => {
    const cards = page.locator('a[aria-label^="Open "]');
    await cards.first().waitFor();
    const labels: string[] = [];
    for (let i = 0; i < (await cards.count()); i++)
      labels.push((await cards.nth(i).getAttribute("aria-label"))!);
    return labels;
  };
  expect(await order()).toEqual(["Open Newer", "Open Older"]);

  // A change of the older project's files (here through the file API, as the editor saves) moves it first.
  const written = await user.client.put(`/api/orgs/${org}/projects/${older}/files/content`, {
    path: "notes.md",
    content: "# Notes\n",
  });
  expect(written.statusCode).toBe(200);
  await expect
    .poll(
      async () => {
        await page.reload();
        return order();
      },
      { timeout: 15_000, interval: 1_000 },
    )
    .toEqual(["Open Older", "Open Newer"]);
  await page.close();
}, 120_000);
