/**
 * A project deleted while another tab has it open: that tab says so, offers the way back to the projects,
 * and stops asking the server about it (no stream of 404s, no "Dev server: Running" left on screen).
 */
import type { Page, Request } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { freePort } from "../packages/server/src/testing/free-port.ts";
import { startTestKiln, type TestKiln } from "../packages/server/src/testing/harness.ts";
import { type Browser, launchChromium } from "./chromium.ts";
import { enterMailedCode } from "./verify-email.ts";

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

async function signUp(page: Page): Promise<string> {
  const email = `gone-${Date.now().toString(36)}@example.com`;
  await page.goto(`${base}/signup`);
  await page.getByLabel("Name").fill("Gone Tester");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("correct horse battery");
  await page.getByRole("button", { name: "Create account" }).click();
  await enterMailedCode(page, kiln, email);
  await page.getByRole("heading", { name: "Projects" }).waitFor();
  return new URL(page.url()).pathname.split("/")[1]!;
}

it("tells a tab on a deleted project that it is gone, and stops polling", async () => {
  const first = await browser.context.newPage();
  const org = await signUp(first);
  const csrf = async () =>
    decodeURIComponent(
      (await browser.context.cookies(base)).find((c) => c.name === "kiln_csrf")?.value ?? "",
    );
  const api = async (method: string, url: string, body?: unknown) =>
    first.evaluate(
      async ({ method, url, body, token }) => {
        const res = await fetch(url, {
          method,
          headers: {
            "x-csrf-token": token,
            ...(body === undefined ? {} : { "content-type": "application/json" }),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        if (!res.ok) throw new Error(`${method} ${url}: ${res.status}`);
        return res.status === 204 ? null : res.json();
      },
      { method, url, body, token: await csrf() },
    );
  const created = (await api("POST", `/api/orgs/${org}/projects`, {
    name: "Doomed",
    template: "static",
  })) as {
    slug: string;
  };

  // The second tab has the workspace open, its dev server running.
  const second = await browser.context.newPage();
  await second.goto(`${base}/${org}/${created.slug}`);
  await second.getByText("Dev server: Running").waitFor({ timeout: 90_000 });

  // The first deletes the project.
  await api("DELETE", `/api/orgs/${org}/projects/${created.slug}`);

  await second.getByRole("heading", { name: "This project was deleted" }).waitFor({ timeout: 30_000 });
  expect(await second.getByText("Dev server: Running").count()).toBe(0);

  // Then it stays quiet: no request about the project (nor its preview) for a while.
  const asked: string[] = [];
  const onRequest = (r: Request) => {
    const url = new URL(r.url());
    if (url.pathname.includes(`/projects/${created.slug}`) || url.hostname.startsWith(`${created.slug}--`))
      asked.push(r.url());
  };
  second.on("request", onRequest);
  await second.waitForTimeout(12_000);
  second.off("request", onRequest);
  expect(asked).toEqual([]);

  // The way back: the org's projects, without the deleted one.
  await second.getByRole("link", { name: "Back to projects" }).click();
  await second.getByRole("heading", { name: "Projects" }).waitFor();
  expect(await second.getByText("Doomed").count()).toBe(0);
  await first.close();
  await second.close();
}, 240_000);
