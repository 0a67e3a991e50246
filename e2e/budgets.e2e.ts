/**
 * Spend budgets on the usage page (ADR 0029): an org admin adds a monthly USD budget with the form, model
 * calls through the /v1 proxy spend most of it, the bar shows spent against the limit past the soft mark,
 * the admins got the soft-cap mail, and "Set limit" raises the cap. Screenshot: e2e/screenshots/budgets.png.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { uniqueSlug } from "../packages/server/src/testing/harness.ts";
import { type Studio, shot, shotOnFailure, startStudio } from "./studio-setup.ts";

let studio: Studio;

beforeAll(async () => {
  studio = await startStudio({
    model: { responder: () => ({ text: "ok", usage: { inputTokens: 100, outputTokens: 800 } }) },
    screen: { viewport: { width: 1280, height: 900 } },
  });
}, 120_000);
afterAll(() => studio?.close());

it("an admin adds a budget, sees spend against it and raises it", async () => {
  const { kiln, base } = studio;
  const owner = await kiln.signup({ name: "Budget Admin" });
  const org = uniqueSlug("spend");
  expect((await owner.client.post("/api/orgs", { name: "Thrifty Team", slug: org })).statusCode).toBe(201);
  // $1 per thousand tokens: each call below costs $0.90 and reserves ≈ $0.20 (its 200 output tokens).
  await owner.client.put(`/api/orgs/${org}/llm/prices`, {
    model: "fake-model",
    inputPerMTok: 1000,
    outputPerMTok: 1000,
  });
  const token = (await owner.client.post("/api/auth/tokens", { name: "script" })).json().token;

  const page = await studio.browser.context.newPage();
  shotOnFailure(page, "budgets");
  await page.goto(`${base}/login`);
  await page.getByLabel("Email").fill(owner.user.email);
  await page.getByLabel("Password").fill(owner.password);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("heading", { name: "Projects" }).waitFor();
  await page.goto(`${base}/${org}/usage`);
  await page.getByText("No budgets: model spend is not capped.").waitFor();

  const form = page.getByRole("form", { name: "Add a budget" });
  await form.getByLabel("Limit").fill("1");
  await form.getByRole("button", { name: "Add budget" }).click();
  const row = page.getByRole("listitem", { name: /Whole org · per month/ });
  await row.getByText("$0.00 of $1.00").waitFor();

  const call = () =>
    fetch(`${base}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "x-kiln-org": org, "content-type": "application/json" },
      body: JSON.stringify({
        model: "openai/fake-model",
        messages: [{ role: "user", content: "hi" }],
        max_tokens: 200,
      }),
    });
  expect((await call()).status).toBe(200);
  await kiln.services.budgetLedger.flush();
  const refused = await call();
  expect(refused.status).toBe(402);
  expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("budget_exceeded");
  expect(
    kiln.mails.sent.filter((m) => m.to === owner.user.email && m.subject.includes("Thrifty Team")),
  ).toHaveLength(1);

  await page.reload();
  await row.getByText("$0.90 of $1.00").waitFor();
  await shot(page, "budgets");
  await row.getByLabel(/New limit/).fill("5");
  await row.getByRole("button", { name: "Set limit" }).click();
  await row.getByText("$0.90 of $5.00").waitFor();
  expect((await call()).status).toBe(200);
}, 90_000);
