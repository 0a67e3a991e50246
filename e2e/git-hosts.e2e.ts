/**
 * A connected git host, as a user does it in the studio (ADR 0028): Settings → Git hosts connects a GitHub
 * account (a strict fake of its API, repositories on a real git server); the project's Git panel creates
 * the repository there, links it and pushes main with the saved token.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { startFakeGitHub } from "../packages/server/src/testing/git-hosts/github.ts";
import type { FakeGitHost } from "../packages/server/src/testing/git-hosts/http.ts";
import { startGitServer, type TestGitServer } from "../packages/server/src/testing/git-server.ts";
import { type Studio, shot, shotOnFailure, signUpInBrowser, startStudio } from "./studio-setup.ts";

const TOKEN = "ghp_e2e-token-0123456789";
let server: TestGitServer;
let github: FakeGitHost;
let studio: Studio;

beforeAll(async () => {
  server = await startGitServer();
  github = await startFakeGitHub(server, { token: TOKEN, login: "octo" });
  studio = await startStudio({
    env: {
      KILN_EGRESS_ALLOW: `${server.host}:${server.port},${new URL(github.apiUrl).host}`,
      KILN_EXTRA_CA_FILE: server.caFile,
    },
  });
}, 120_000);

afterAll(async () => {
  await studio?.close();
  await github?.close();
  await server?.stop();
});

it("connects GitHub in the org's settings, then creates a project's repository there and pushes main", async () => {
  const page = await studio.browser.context.newPage();
  shotOnFailure(page, "git-hosts");
  await page.setViewportSize({ width: 1280, height: 900 });
  const { org } = await signUpInBrowser(page, studio, "Gil Hosts");

  await page.goto(`${studio.base}/${org}/settings?tab=git`);
  const form = page.getByRole("form", { name: "Connect a git host" });
  await form.getByLabel("Name").fill("GitHub (octo)");
  await form.getByLabel("Access token").fill(TOKEN);
  await form.getByLabel("API URL (optional)").fill(github.apiUrl);
  await form.getByLabel("Clone origin (optional)").fill(github.gitUrl);
  await form.getByRole("button", { name: "Connect" }).click();
  const list = page.getByRole("list", { name: "Git hosts" });
  await list.getByText("as octo").waitFor({ timeout: 30_000 });
  expect(await page.content()).not.toContain(TOKEN);
  await shot(page, "git-hosts-settings");

  const csrf = decodeURIComponent(
    (await studio.browser.context.cookies(studio.base)).find((c) => c.name === "kiln_csrf")?.value ?? "",
  );
  const made = await page.evaluate(
    async ({ org, csrf }) => {
      const res = await fetch(`/api/orgs/${org}/projects`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-csrf-token": csrf },
        body: JSON.stringify({ name: "Shop", template: "static" }),
      });
      return ((await res.json()) as { slug: string }).slug;
    },
    { org, csrf },
  );
  await page.goto(`${studio.base}/${org}/${made}/settings`);
  const create = page.getByRole("form", { name: "Create a repository" });
  await create.waitFor({ timeout: 30_000 });
  await create.getByLabel("Repository name").fill("shop-site");
  await shot(page, "git-hosts-create-repository");
  await create.getByRole("button", { name: "Create repository" }).click();
  const panel = page.getByTestId("git-remote");
  await panel.waitFor({ timeout: 60_000 });
  expect(await panel.textContent()).toContain(`${github.gitUrl}/octo/shop-site.git`);
  await expect.poll(() => panel.getByTestId("ahead-behind").textContent()).toContain("0 to push, 0 to pull");
  expect(await server.tip("octo/shop-site", "main")).toMatch(/^[0-9a-f]{40}$/);
  await shot(page, "git-hosts-linked");
});
