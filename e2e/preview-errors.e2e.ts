/**
 * Preview errors reach Kiln from a real browser: a react-vite project whose button throws in its click
 * handler and in a timer, and rejects a promise, reports all three through the script the preview proxy
 * injects; a broken import shows up from the dev server's output. Both are what `recent()` hands the agent.
 */
import { mkdir } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { PreviewError } from "@kiln/protocol";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  type SignedUp,
  startTestKiln,
  type TestKiln,
  uniqueSlug,
} from "../packages/server/src/testing/harness.ts";
import { type Browser, launchChromium } from "./chromium.ts";

const SCREENSHOTS = path.join(path.dirname(fileURLToPath(import.meta.url)), "screenshots");

let kiln: TestKiln;
let browser: Browser;
let port: number;
let owner: SignedUp;
let org: string;
let orgId: string;

beforeAll(async () => {
  [kiln, browser] = await Promise.all([startTestKiln(), launchChromium()]);
  await kiln.app.listen({ port: 0, host: "127.0.0.1" });
  port = (kiln.app.server.address() as AddressInfo).port;
  owner = await kiln.signup();
  org = uniqueSlug("org");
  const created = await owner.client.post("/api/orgs", { name: "E2E errors", slug: org });
  expect(created.statusCode).toBe(201);
  orgId = created.json().id;
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await kiln?.stop();
});

const APP = `import { useState } from "react";

export function App() {
  const [armed, setArmed] = useState(true);
  return (
    <main>
      <h1>Error factory</h1>
      <button
        type="button"
        onClick={() => {
          setArmed(!armed);
          setTimeout(() => {
            throw new Error("kiln-e2e timeout boom");
          }, 0);
          Promise.reject(new Error("kiln-e2e rejected"));
          throw new TypeError("kiln-e2e click boom");
        }}
      >
        Break it
      </button>
    </main>
  );
}
`;

it("collects a react-vite page's uncaught errors and the dev server's build errors", async () => {
  const created = await owner.client.post(`/api/orgs/${org}/projects`, {
    name: "Broken",
    template: "react-vite",
  });
  expect(created.statusCode).toBe(201);
  const { id: projectId, slug } = created.json() as { id: string; slug: string };
  const files = `/api/orgs/${org}/projects/${slug}/files/content`;
  expect((await owner.client.put(files, { path: "src/App.tsx", content: APP })).statusCode).toBe(200);

  const session = await owner.client.post(`/api/orgs/${org}/projects/${slug}/preview-session`);
  const link = new URL(session.json().url);
  link.port = String(port);
  const page = await browser.context.newPage();
  await page.goto(link.toString());
  await page.getByRole("heading", { name: "Error factory" }).waitFor({ timeout: 90_000 });
  expect(await page.evaluate("Boolean(window.__kilnErrors)")).toBe(true);

  await page.getByRole("button", { name: "Break it" }).click();
  const recent = () => kiln.services.previewErrors.recent(orgId, projectId);
  const has = (e: PreviewError[], kind: string, text: string) =>
    e.some((x) => x.source === "browser" && x.kind === kind && x.message.includes(text));
  await expect
    .poll(
      () => {
        const e = recent();
        return (
          ["click boom", "timeout boom"].every((t) => has(e, "error", t)) &&
          has(e, "unhandledrejection", "rejected")
        );
      },
      { timeout: 20_000 },
    )
    .toBe(true);
  const click = recent().find((e) => e.message.includes("click boom"))!;
  expect(click.message).toContain("TypeError");
  expect(click.detail).toContain("App.tsx");
  expect(click.url).toContain(`${slug}--${org}.localhost`);

  // A broken import: Vite logs it (and shows its overlay); the log side of recent() picks it up.
  const broken = APP.replace(
    'import { useState } from "react";',
    'import { useState } from "react";\nimport "./missing-module";',
  );
  expect((await owner.client.put(files, { path: "src/App.tsx", content: broken })).statusCode).toBe(200);
  await page.reload();
  await expect
    .poll(() => recent().some((e) => e.source === "server" && e.message.includes("missing-module")), {
      timeout: 30_000,
    })
    .toBe(true);
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, "preview-errors.png") });

  const api = await owner.client.get(`/api/orgs/${org}/projects/${slug}/runtime/errors`);
  expect(api.statusCode).toBe(200);
  const messages = api.json().errors.map((e: PreviewError) => `${e.source}: ${e.message}`);
  process.stdout.write(`[e2e] preview errors:\n  ${messages.join("\n  ")}\n`);
  await page.close();
}, 150_000);
