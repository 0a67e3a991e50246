/**
 * The project settings page, as a member would use it: rename the project and its URL name, add a secret
 * environment variable (masked, also after a reload) that the running app then sees, open the preview to
 * whoever holds a share link (until it is revoked), then to everyone and close it again, copy the `git clone` command (and clone with it), delete the project.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { TestKiln } from "../packages/server/src/testing/harness.ts";
import { previewGet, untilPreviewServes } from "../packages/server/src/testing/preview.ts";
import type { Browser } from "./chromium.ts";
import { SCREENSHOTS, type Studio, startStudio } from "./studio-setup.ts";
import { enterMailedCode } from "./verify-email.ts";

const SECRET = "sk_test_e2e_secret_4242_abcd";
// The app prints what its process was given.
const SERVER = `import http from "node:http";
http
  .createServer((req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end("<h1>Env demo</h1><p>APP_SECRET=[" + (process.env.APP_SECRET ?? "unset") + "] MODE=[" + (process.env.MODE ?? "unset") + "]</p>");
  })
  .listen(Number(process.env.PORT) || 3000, process.env.HOST || "0.0.0.0");
`;

let studio: Studio;
let kiln: TestKiln;
let browser: Browser;
let base: string;
let port: number;

beforeAll(async () => {
  studio = await startStudio();
  ({ kiln, browser, base, port } = studio);
}, 120_000);

afterAll(() => studio?.close());

async function signUp(page: Page): Promise<string> {
  const email = `settings-${Date.now().toString(36)}@example.com`;
  await page.goto(`${base}/signup`);
  await page.getByLabel("Name").fill("Settings Tester");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("correct horse battery");
  await page.getByRole("button", { name: "Create account" }).click();
  await enterMailedCode(page, kiln, email);
  await page.getByRole("heading", { name: "Projects" }).waitFor();
  return new URL(page.url()).pathname.split("/")[1]!;
}

/** A call to the API from the page, with its session and CSRF token, as the studio makes them. */
async function api(page: Page, method: string, url: string, body?: unknown): Promise<unknown> {
  const csrf = decodeURIComponent(
    (await browser.context.cookies(base)).find((c) => c.name === "kiln_csrf")?.value ?? "",
  );
  return page.evaluate(
    async ({ method, url, body, csrf }) => {
      const res = await fetch(url, {
        method,
        headers: {
          "x-csrf-token": csrf,
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${await res.text()}`);
      return res.json();
    },
    { method, url, body, csrf },
  );
}

it("renames, keeps a secret, opens the preview, clones and deletes a project from its settings", async () => {
  const page = await browser.context.newPage();
  await page.setViewportSize({ width: 1280, height: 900 });
  const org = await signUp(page);
  const created = (await api(page, "POST", `/api/orgs/${org}/projects`, {
    name: "Env demo",
    template: "node-api",
  })) as { slug: string };
  await api(page, "PUT", `/api/orgs/${org}/projects/${created.slug}/files/content`, {
    path: "server.js",
    content: SERVER,
  });

  // The workspace runs the app; its header leads to the settings.
  await page.goto(`${base}/${org}/${created.slug}`);
  const preview = page.frameLocator('iframe[title="App preview"]');
  await preview.getByText("APP_SECRET=[unset]").waitFor({ timeout: 120_000 });
  await page.getByText("Dev server: Running").waitFor();
  await page.getByRole("link", { name: "Project settings" }).click();
  await page.waitForURL(`${base}/${org}/${created.slug}/settings`);
  await page.getByRole("heading", { name: "Project settings" }).waitFor();

  // General: a URL name the server refuses is explained next to the field; a good one moves the page.
  const general = page.getByRole("form", { name: "General settings" });
  await general.getByLabel("URL name").fill("9-lives");
  await general.getByRole("button", { name: "Save" }).click();
  await general.getByRole("alert").filter({ hasText: "starts with a letter" }).waitFor();
  await general.getByLabel("Project name").fill("Env Lab");
  await general.getByLabel("URL name").fill("env-lab");
  await general.getByLabel("Description").fill("Reads its settings from the environment");
  await general.getByRole("button", { name: "Save" }).click();
  await page.waitForURL(`${base}/${org}/env-lab/settings`);
  await page.getByTestId("back-to-workspace").filter({ hasText: "Env Lab" }).waitFor();
  expect(await general.getByRole("alert").count()).toBe(0);

  // Environment: a secret (the default) and a plain variable.
  await page.getByRole("button", { name: "Add variable", exact: true }).click();
  let dialog = page.getByRole("dialog", { name: "Add a variable" });
  await dialog.getByLabel("Name").fill("app secret");
  expect(await dialog.getByLabel("Name").inputValue()).toBe("APP_SECRET");
  await dialog.getByLabel("Value").fill(SECRET);
  await dialog.getByRole("button", { name: "Add variable" }).click();
  await page.getByText("Restarting the dev server so the app sees it").first().waitFor();
  await dialog.waitFor({ state: "hidden" });
  await page.getByRole("button", { name: "Add variable", exact: true }).click();
  dialog = page.getByRole("dialog", { name: "Add a variable" });
  await dialog.getByLabel("Name").fill("PATH");
  await dialog.getByText("PATH is set by Kiln's sandbox").waitFor();
  await dialog.getByLabel("Name").fill("MODE");
  await dialog.getByLabel("Value").fill("demo");
  await dialog.getByLabel("Secret").uncheck();
  await dialog.getByRole("button", { name: "Add variable" }).click();
  await page.locator("[data-env-var=MODE]").getByText("demo").waitFor();
  const masked = page.locator("[data-env-var=APP_SECRET]").getByTestId("masked-value");
  expect(await masked.textContent()).toBe("••••••••abcd");

  // After a reload the secret is still only a mask: the page never had its value.
  await page.reload();
  await masked.waitFor();
  expect(await masked.textContent()).toBe("••••••••abcd");
  expect(await page.content()).not.toContain(SECRET);

  // Preview access: private (a visitor without a session is refused), then public, then private again.
  const { previewUrl } = (await api(page, "GET", `/api/orgs/${org}/projects/env-lab/runtime`)) as {
    previewUrl: string;
  };
  const previewHost = new URL(previewUrl).host;
  const visitor = () => previewGet(port, previewHost, "/");
  expect((await visitor()).status).toBe(401);

  // A share link opens the private preview for whoever holds it, until it is revoked.
  const shares = page.getByRole("list", { name: "Share links" });
  await page.getByLabel("Label").fill("for Sam");
  await page.getByRole("button", { name: "Make link" }).click();
  const shareUrl = new URL(await page.getByLabel("New share link").inputValue());
  expect(shareUrl.pathname).toMatch(/^\/__kiln\/share\/[A-Za-z0-9_-]{43}$/);
  await shares.getByText("for Sam").waitFor();
  const landing = await previewGet(port, previewHost, shareUrl.pathname);
  expect(landing.status).toBe(302);
  const shareCookie = landing.headers["set-cookie"]![0]!.split(";")[0]!;
  await untilPreviewServes(port, previewHost, shareCookie, "Env demo", 90_000);
  await page.screenshot({ path: path.join(SCREENSHOTS, "project-share-links.png") });
  await shares.getByRole("button", { name: "Revoke" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Revoke" }).click();
  await shares.getByText("No open share links.").waitFor();
  expect((await previewGet(port, previewHost, "/", shareCookie)).status).toBe(401);

  const access = page.getByRole("switch", { name: "Public preview" });
  expect(await access.getAttribute("aria-checked")).toBe("false");
  await access.click();
  await page.getByTestId("preview-access").filter({ hasText: "Public: anyone with the link" }).waitFor();
  // The app, restarted with its new environment, answers anyone now (lookups are cached for 2 s).
  await expect
    .poll(async () => (await visitor()).body, { timeout: 90_000, interval: 500 })
    .toContain(`APP_SECRET=[${SECRET}] MODE=[demo]`);

  // Git: the clone command of this Kiln, copied.
  await browser.context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: base });
  const command = `git clone ${base}/git/${org}/env-lab.git`;
  expect(await page.getByTestId("clone-command").textContent()).toBe(command);
  await page.getByRole("button", { name: "Copy the clone command" }).click();
  await page.getByText("Clone command copied").waitFor();
  expect(await page.evaluate("navigator.clipboard.readText()")).toBe(command);
  // The page as it stays, without the toasts over it.
  await page.getByText("Clone command copied").waitFor({ state: "hidden", timeout: 15_000 });
  // From the top: the sticky header stays where a scrolled page left it in a full-page shot.
  await page.evaluate("window.scrollTo(0, 0)");
  await page.screenshot({ path: path.join(SCREENSHOTS, "project-settings.png"), fullPage: true });

  // …and it works with a personal token as the password; the repository holds no environment value.
  const { token } = (await api(page, "POST", "/api/auth/tokens", { name: "git" })) as { token: string };
  const dir = await mkdtemp(path.join(os.tmpdir(), "kiln-e2e-clone-"));
  try {
    const url = command.split(" ")[2]!.replace("://", `://kiln:${token}@`);
    await promisify(execFile)("git", ["clone", "-q", url, path.join(dir, "repo")], {
      env: { ...process.env, GIT_TERMINAL_PROMPT: "0" },
    });
    // The template's first commit (edits reach the repository with the next checkpoint).
    const files = (await readdir(path.join(dir, "repo"), { recursive: true })) as string[];
    expect(files).toEqual(expect.arrayContaining(["server.js", "kiln.json", ".git"]));
    for (const file of files) {
      const content = await readFile(path.join(dir, "repo", file)).catch(() => Buffer.alloc(0));
      expect(content.includes(SECRET), file).toBe(false);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }

  await access.click();
  await page
    .getByTestId("preview-access")
    .filter({ hasText: "Private: members of this organization" })
    .waitFor();
  await expect.poll(async () => (await visitor()).status, { timeout: 10_000 }).toBe(401);

  // Back in the workspace, the app shows the secret it was given (the dev server restarted for it).
  await page.getByTestId("back-to-workspace").click();
  await page.waitForURL(`${base}/${org}/env-lab`);
  await preview.getByText(`APP_SECRET=[${SECRET}] MODE=[demo]`).waitFor({ timeout: 90_000 });

  // Danger zone: deleting asks for the name, then leads back to the projects.
  await page.getByRole("link", { name: "Project settings" }).click();
  await page.getByRole("button", { name: "Delete project…" }).click();
  const confirm = page.getByRole("dialog", { name: "Delete Env Lab?" });
  const remove = confirm.getByRole("button", { name: "Delete project" });
  expect(await remove.isDisabled()).toBe(true);
  await confirm.getByLabel("Type Env Lab to confirm").fill("Env Lab");
  await remove.click();
  await page.waitForURL(`${base}/${org}`);
  await page.getByRole("heading", { name: "Projects" }).waitFor();
  await page.getByText("Deleted Env Lab").waitFor();
  expect(await page.locator(`a[href="/${org}/env-lab"]`).count()).toBe(0);
  await page.close();
}, 360_000);
