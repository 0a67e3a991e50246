/**
 * A new instance whose install did not prepare the templates (offline `npm install`, another user): the
 * first project waits for the start's dependency install, and the create button says how far it is
 * ("Preparing templates… n%") instead of a bare "Creating…". A template whose install takes a few seconds
 * stands in for npm. Screenshot: e2e/screenshots/first-project-preparing.png.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type Studio, shot, shotOnFailure, signUpInBrowser, startStudio } from "./studio-setup.ts";

/** Eight packages, 500 ms apart. */
const SLOW_INSTALL = `
const fs = require("node:fs");
let i = 0;
const next = () => {
  if (i === 8) return;
  fs.mkdirSync("node_modules/p" + i++, { recursive: true });
  setTimeout(next, 500);
};
next();
`;

let studio: Studio;
let root: string;

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "kiln-preparing-e2e-"));
  const dir = path.join(root, "templates", "slow");
  await mkdir(dir, { recursive: true });
  const packages = Object.fromEntries(
    Array.from({ length: 8 }, (_, i) => [`node_modules/p${i}`, { version: "1.0.0" }]),
  );
  await writeFile(
    path.join(dir, "package-lock.json"),
    JSON.stringify({ lockfileVersion: 3, packages: { "": {}, ...packages } }),
  );
  await writeFile(path.join(dir, "package.json"), '{"name":"slow","private":true}');
  await writeFile(path.join(dir, "KILN.md"), "# slow\n");
  await writeFile(
    path.join(dir, "kiln.json"),
    JSON.stringify({
      name: "slow",
      title: "Slow install",
      description: "Dependencies that take a few seconds",
      dev: { argv: ["node", "-e", "0"], env: {}, port: { env: "PORT", default: 3000 }, ready: { path: "/" } },
      install: { argv: [process.execPath, "-e", SLOW_INSTALL], lockfile: "package-lock.json" },
      readFirst: ["KILN.md"],
    }),
  );
  studio = await startStudio({
    env: { KILN_TEMPLATES_DIR: path.dirname(dir), KILN_TEMPLATE_CACHE_DIR: path.join(root, "cache") },
  });
}, 120_000);

afterAll(async () => {
  await studio?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

it("says how far the template install is while the first project waits for it", async () => {
  const page = await studio.browser.context.newPage();
  shotOnFailure(page, "first-project-preparing");
  const { org } = await signUpInBrowser(page, studio, "Fay First");
  await page.getByRole("button", { name: "New project" }).first().click();
  const dialog = page.getByRole("dialog", { name: "New project" });
  await dialog.getByLabel("Project name").fill("First app");
  await dialog.locator("[data-template=slow]").click();
  // What `kiln start` does once it listens; the user is quicker than the install.
  const warming = studio.kiln.warmTemplateCaches();
  await dialog.getByRole("button", { name: "Create project" }).click();
  const preparing = dialog.getByRole("button", { name: /Preparing templates… \d+%/ });
  await preparing.waitFor({ timeout: 10_000 });
  // It moves: some packages are in place before the project is made.
  await expect
    .poll(() => preparing.textContent().catch(() => ""), { timeout: 10_000, interval: 50 })
    .toMatch(/Preparing templates… [1-9]\d?%/);
  await shot(page, "first-project-preparing");
  await page.waitForURL(`${studio.base}/${org}/first-app`, { timeout: 20_000 });
  expect(await warming).toBeUndefined();
});
