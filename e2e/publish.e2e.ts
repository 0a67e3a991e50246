/**
 * Publish (issue #13) in a real browser against a real Kiln whose model is the scripted fake provider: the
 * agent builds the counter app, the user publishes it, and a stranger — another browser, never signed in —
 * opens the public address and clicks the counter. The app changes and is published again; rolling back
 * serves the first version again at once, without a rebuild.
 */
import { scenarios } from "@kiln/fake-provider";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type Browser, launchChromium } from "./chromium.ts";
import { type Studio, shot, shotOnFailure, signUpInBrowser, startStudio } from "./studio-setup.ts";

let studio: Studio;
let stranger: Browser;

beforeAll(async () => {
  [studio, stranger] = await Promise.all([
    startStudio({ model: { responder: scenarios["build-counter-app"]!() } }),
    launchChromium(),
  ]);
}, 120_000);

afterAll(async () => {
  await stranger?.close();
  await studio?.close();
});

/** Writes a file of the open project through the studio's own API, as the signed-in user. */
async function writeFile(page: Page, url: string, path: string, edit: (content: string) => string) {
  const csrf = (await studio.browser.context.cookies(studio.base)).find((c) => c.name === "kiln_csrf");
  const read = await page.request.get(`${studio.base}${url}?path=${encodeURIComponent(path)}`);
  const content = edit(((await read.json()) as { content: string }).content);
  const res = await page.request.put(`${studio.base}${url}`, {
    headers: { "x-csrf-token": decodeURIComponent(csrf?.value ?? "") },
    data: { path, content },
  });
  expect(res.status(), await res.text()).toBe(200);
}

it("publishes the counter app to a public address, publishes a change, and rolls it back at once", async () => {
  const page = await studio.browser.context.newPage();
  shotOnFailure(page, "publish");
  const { org } = await signUpInBrowser(page, studio, "Pat Publisher");

  await page.getByRole("button", { name: "New project" }).click();
  const create = page.getByRole("dialog", { name: "New project" });
  await create.getByLabel("Project name").fill("Counter app");
  await create.locator("[data-template=react-vite]").click();
  await create.getByRole("button", { name: "Create project" }).click();
  await page.waitForURL(`${studio.base}/${org}/counter-app`);
  const preview = page.frameLocator('iframe[title="App preview"]');
  await preview.getByRole("heading", { name: "Your app starts here" }).waitFor({ timeout: 60_000 });

  const composer = page.getByLabel("Message the agent");
  await composer.fill("add a counter");
  await composer.press("Enter");
  await preview.getByRole("button", { name: "Count: 0" }).waitFor({ timeout: 60_000 });

  // Publish: the dialog builds it and shows it live.
  await page.getByRole("button", { name: "Publish", exact: true }).click();
  const dialog = page.getByRole("dialog", { name: "Publish" });
  await dialog.getByText("Not published yet").waitFor();
  await dialog.getByRole("button", { name: "Publish", exact: true }).click();
  const deployments = dialog.getByRole("list", { name: "Deployments" });
  const first = deployments.getByTestId("deployment").filter({ hasText: "#1" });
  await first.getByText("live").waitFor({ timeout: 60_000 });
  const address = await dialog.getByRole("link").getAttribute("href");
  expect(address).toBe(`http://counter-app--${org}.apps.localhost:${studio.port}`);
  await shot(page, "publish-dialog");

  // A stranger opens it: no session, no Kiln, the built app.
  const visitor = await stranger.context.newPage();
  const requests: string[] = [];
  visitor.on("request", (r) => requests.push(new URL(r.url()).host));
  await visitor.goto(address!);
  await visitor.getByRole("heading", { name: "Your app starts here" }).waitFor();
  await visitor.getByRole("button", { name: "Count: 0" }).click();
  await visitor.getByRole("button", { name: "Count: 1" }).waitFor();
  expect(new Set(requests)).toEqual(new Set([new URL(address!).host]));
  await shot(visitor, "published-app");

  // A change, published again: the stranger sees it on reload.
  await writeFile(page, `/api/orgs/${org}/projects/counter-app/files/content`, "src/App.tsx", (app) =>
    app.replace("Your app starts here", "Version two"),
  );
  await dialog.getByRole("button", { name: "Publish again" }).click();
  const second = deployments.getByTestId("deployment").filter({ hasText: "#2" });
  await second.getByText("live").waitFor({ timeout: 60_000 });
  await visitor.reload();
  await visitor.getByRole("heading", { name: "Version two" }).waitFor();

  // Rolled back: the first version serves again at once (no build).
  await first.getByRole("button", { name: "Roll back to this" }).click();
  await first.getByText("live").waitFor();
  await visitor.reload();
  await visitor.getByRole("heading", { name: "Your app starts here" }).waitFor({ timeout: 2_000 });
  await second.getByRole("button", { name: "Log" }).click();
  await dialog.getByRole("log", { name: "Build log of deployment #2" }).getByText("npm run build").waitFor();
  await shot(page, "publish-rolled-back");
}, 240_000);
