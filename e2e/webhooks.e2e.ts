/**
 * Webhooks in the studio: an org admin adds a webhook pointed at a real https receiver (its own CA given
 * to Kiln), copies the secret shown once, a job ends and the receiver verifies the signed delivery; the
 * delivery list shows the receiver's answer, and "Redeliver" sends it again. Screenshots (desktop and
 * phone width) go to e2e/screenshots/.
 */
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, it } from "vitest";
import { freePort } from "../packages/server/src/testing/free-port.ts";
import {
  type SignedUp,
  startTestKiln,
  type TestKiln,
  uniqueSlug,
} from "../packages/server/src/testing/harness.ts";
import { testCertificate } from "../packages/server/src/testing/tls.ts";
import { verifySignature } from "../packages/server/src/webhooks/signature.ts";
import { type Browser, launchChromium } from "./chromium.ts";

const SCREENSHOTS = path.join(path.dirname(fileURLToPath(import.meta.url)), "screenshots");

let kiln: TestKiln;
let browser: Browser;
let base: string;
let receiver: Server;
let receiverUrl: string;
let tmp: string;
let secret = "";
const received: Array<{ body: string; verified: boolean }> = [];

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), "kiln-webhooks-e2e-"));
  const cert = await testCertificate(tmp, "127.0.0.1");
  receiver = createServer({ key: cert.key, cert: cert.cert }, (req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => {
      body += c;
    });
    req.on("end", () => {
      const verified = verifySignature(secret, body, req.headers["kiln-signature"] as string | undefined);
      received.push({ body, verified });
      res.statusCode = verified ? 204 : 401;
      res.end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  receiverUrl = `https://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  const port = await freePort();
  base = `http://localhost:${port}`;
  [kiln, browser] = await Promise.all([
    startTestKiln({
      env: {
        KILN_PUBLIC_URL: base,
        KILN_EXTRA_CA_FILE: cert.caFile,
        KILN_EGRESS_ALLOW: receiverUrl.slice("https://".length),
      },
    }),
    launchChromium({ viewport: { width: 1280, height: 860 } }),
  ]);
  await kiln.app.listen({ port, host: "127.0.0.1" });
  await mkdir(SCREENSHOTS, { recursive: true });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await kiln?.stop();
  receiver?.close();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

async function logIn(user: SignedUp) {
  const page = await browser.context.newPage();
  await page.goto(`${base}/login`);
  await page.getByLabel("Email").fill(user.user.email);
  await page.getByLabel("Password").fill(user.password);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("heading", { name: "Projects" }).waitFor();
  return page;
}

it("adds a webhook, a job's end is delivered signed, and a delivery is sent again", async () => {
  const owner = await kiln.signup({ name: "Hook Admin" });
  const org = uniqueSlug("hooks");
  expect((await owner.client.post("/api/orgs", { name: "Hooked Team", slug: org })).statusCode).toBe(201);
  const project = (await owner.client.post(`/api/orgs/${org}/projects`, { name: "Hooked app" })).json();

  const page = await logIn(owner);
  await page.goto(`${base}/${org}/settings?tab=webhooks`);
  await page.getByLabel("Payload URL").fill(`${receiverUrl}/kiln`);
  await page.getByLabel("Members").check();
  await page.getByRole("button", { name: "Add webhook" }).click();
  secret = (await page.getByTestId("webhook-secret").textContent()) ?? "";
  expect(secret).toMatch(/^whsec_/);
  await page.getByRole("list", { name: "Webhooks" }).getByText(`${receiverUrl}/kiln`).waitFor();

  const job = await owner.client.post(`/api/orgs/${org}/projects/${project.slug}/jobs`, {
    kind: "implement",
    instructions: "Add a counter",
  });
  expect(job.statusCode).toBe(201);
  expect((await owner.client.post(`/api/orgs/${org}/jobs/${job.json().id}/cancel`)).statusCode).toBe(200);

  await page.getByRole("button", { name: "Deliveries" }).click();
  const deliveries = page.getByRole("list", { name: `Deliveries to ${receiverUrl}/kiln` });
  await deliveries.getByText("HTTP 204").waitFor({ timeout: 20_000 });
  await deliveries.getByText("job.finished").waitFor();
  expect(received).toHaveLength(1);
  expect(received[0]!.verified).toBe(true);
  await page.screenshot({ path: path.join(SCREENSHOTS, "webhooks.png"), fullPage: true });

  await deliveries.getByRole("button", { name: "Redeliver" }).first().click();
  await expect.poll(() => received.length, { timeout: 20_000 }).toBe(2);
  expect(received[1]!.verified).toBe(true);
  expect(JSON.parse(received[1]!.body).id).toBe(JSON.parse(received[0]!.body).id);

  await page.setViewportSize({ width: 390, height: 844 });
  await deliveries.getByText("job.finished").first().waitFor();
  await page.screenshot({ path: path.join(SCREENSHOTS, "webhooks-phone.png"), fullPage: true });
  await page.close();
});
