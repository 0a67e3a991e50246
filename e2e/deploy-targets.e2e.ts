/**
 * Deploy targets (ADR 0024) in a real browser against a real Kiln: an admin adds a Netlify account in the
 * org's settings (the token is never shown back), then publishes the counter app there from the Publish
 * dialog. Netlify is the strict local fake, reached through the egress policy's operator exemption. The
 * deployment shows the same record and log as Kiln's hosting, with its address on the host.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { type FakeNetlify, startFakeNetlify } from "../packages/server/src/testing/deploy-hosts/netlify.ts";
import { type Studio, shot, shotOnFailure, signUpInBrowser, startStudio } from "./studio-setup.ts";

const TOKEN = "nfp_e2e_secret_token_9876";

let studio: Studio;
let netlify: FakeNetlify;

beforeAll(async () => {
  netlify = await startFakeNetlify({ token: TOKEN });
  studio = await startStudio({
    env: {
      KILN_NETLIFY_API_URL: netlify.url,
      KILN_DEPLOY_POLL_MS: "50",
      KILN_EGRESS_ALLOW: new URL(netlify.url).host,
    },
  });
}, 120_000);

afterAll(async () => {
  await studio?.close();
  await netlify?.close();
});

it("adds a Netlify target in settings and deploys the counter app to it from the Publish dialog", async () => {
  const page = await studio.browser.context.newPage();
  shotOnFailure(page, "deploy-targets");
  const { org } = await signUpInBrowser(page, studio, "Dee Ployer");

  // The org's settings: a Netlify account, its token write-only.
  await page.goto(`${studio.base}/${org}/settings?tab=deploy`);
  await page.getByText("No deploy targets").waitFor();
  const form = page.getByRole("form", { name: "Add a deploy target" });
  await form.getByLabel("Provider").selectOption("netlify");
  await form.getByLabel("Name").fill("Netlify (marketing)");
  await form.getByLabel("API token").fill(TOKEN);
  await form.getByRole("button", { name: "Add deploy target" }).click();
  const list = page.getByRole("list", { name: "Deploy targets" });
  await list.getByText("Netlify (marketing)").waitFor();
  await list.getByText("token …9876").waitFor();
  expect(await form.getByLabel("API token").inputValue()).toBe("");
  expect(await page.content()).not.toContain(TOKEN);
  await shot(page, "deploy-targets-settings");

  // A project, published to Netlify.
  await page.goto(`${studio.base}/${org}`);
  await page.getByRole("button", { name: "New project" }).click();
  const create = page.getByRole("dialog", { name: "New project" });
  await create.getByLabel("Project name").fill("Counter app");
  await create.locator("[data-template=react-vite]").click();
  await create.getByRole("button", { name: "Create project" }).click();
  await page.waitForURL(`${studio.base}/${org}/counter-app`);

  await page.getByRole("button", { name: "Publish", exact: true }).click();
  const dialog = page.getByRole("dialog", { name: "Publish" });
  await dialog.getByLabel("Destination").selectOption({ label: "Netlify (marketing) (Netlify)" });
  await dialog.getByText("Not deployed there yet").waitFor();
  await dialog.getByLabel("Deploy to Netlify (marketing) when a task is merged into main").check();
  await dialog.getByRole("button", { name: "Deploy to Netlify (marketing)" }).click();
  const first = dialog
    .getByRole("list", { name: "Deployments" })
    .getByTestId("deployment")
    .filter({ hasText: "#1" });
  await first.getByText("ready").waitFor({ timeout: 90_000 });
  const link = first.getByRole("link");
  const url = await link.getAttribute("href");
  expect(url).toMatch(/^https:\/\/[0-9a-f]+--counter-app-[a-z0-9-]+\.netlify\.app$/);
  await dialog.getByText(`Latest on Netlify (marketing)`).waitFor();
  await first.getByRole("button", { name: "Log" }).click();
  await dialog.getByRole("log", { name: "Build log of deployment #1" }).getByText(`live at ${url}`).waitFor();
  // Kiln's own hosting is untouched: no "Make live" for an external deployment.
  expect(await first.getByRole("button", { name: "Make live" }).count()).toBe(0);
  expect(
    await dialog.getByLabel("Deploy to Netlify (marketing) when a task is merged into main").isChecked(),
  ).toBe(true);
  const [deploy] = [...netlify.deploys.keys()];
  expect(netlify.filesOf(deploy!)?.get("index.html")?.toString()).toContain('<div id="root"></div>');
  await shot(page, "deploy-targets-publish");

  await page.setViewportSize({ width: 390, height: 844 });
  await shot(page, "deploy-targets-publish-phone");
  await dialog
    .getByRole("button", { name: "Close" })
    .click()
    .catch(() => page.keyboard.press("Escape"));
  await page.goto(`${studio.base}/${org}/settings?tab=deploy`);
  await page.getByRole("list", { name: "Deploy targets" }).waitFor();
  await shot(page, "deploy-targets-settings-phone");
}, 240_000);
