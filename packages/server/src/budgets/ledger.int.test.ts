import { randomUUID } from "node:crypto";
import type { Budget } from "@kiln/protocol";
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { budgetSpend } from "../db/schema-tenant.ts";
import type { LlmCallContext } from "../llm/index.ts";
import type { OrgRow } from "../orgs/service.ts";
import { type SignedUp, startTestKiln, type TestKiln, uniqueSlug } from "../testing/harness.ts";
import { BudgetExceededError } from "./errors.ts";
import { createBudgets } from "./index.ts";
import type { BudgetLedger } from "./ledger.ts";

/**
 * The ledger the gateway's middleware reserves against, driven directly with call contexts (as chats, jobs
 * and the proxy build them) and a clock the test turns: run budgets per job, task budgets, the month turning.
 */

let kiln: TestKiln;
let owner: SignedUp;
let clock: Date;
let ledger: BudgetLedger;
let service: ReturnType<typeof createBudgets>["service"];

beforeAll(async () => {
  kiln = await startTestKiln();
  owner = await kiln.signup();
  clock = new Date("2026-11-30T23:59:00Z");
  ({ ledger, service } = createBudgets({
    database: kiln.database,
    mailer: kiln.mails,
    publicUrl: "http://localhost:4000",
    log: kiln.app.log,
    now: () => clock,
  }));
}, 120_000);
afterAll(() => kiln?.stop());

async function newOrg(): Promise<{ slug: string; row: OrgRow }> {
  const slug = uniqueSlug("led");
  const created = await owner.client.post("/api/orgs", { name: `Ledger ${slug}`, slug });
  expect(created.statusCode).toBe(201);
  return { slug, row: await kiln.services.orgs.row(created.json().id) };
}

async function addBudget(org: string, body: Record<string, unknown>): Promise<Budget> {
  const res = await owner.client.post(`/api/orgs/${org}/budgets`, body);
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

/** Reserves `tokens` (all of it output) and settles with as many, like a call that used its allowance. */
async function spend(ctx: LlmCallContext, tokens: number): Promise<void> {
  const hold = await ledger.reserve(ctx, {
    provider: "openai",
    modelId: "m",
    inputTokens: 0,
    outputTokens: tokens,
  });
  hold?.settle({ inputTokens: 0, outputTokens: tokens, cachedInputTokens: 0 });
  await ledger.flush();
}

async function refusal(ctx: LlmCallContext, tokens: number): Promise<BudgetExceededError> {
  const err = await ledger
    .reserve(ctx, { provider: "openai", modelId: "m", inputTokens: 0, outputTokens: tokens })
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  expect(err).toBeInstanceOf(BudgetExceededError);
  return err as BudgetExceededError;
}

describe("periods", () => {
  it("a monthly budget starts over when the month turns (UTC)", async () => {
    const org = await newOrg();
    const budget = await addBudget(org.slug, { scope: "org", period: "monthly", unit: "tokens", limit: 100 });
    const ctx: LlmCallContext = { org: org.row, source: "proxy" };
    clock = new Date("2026-11-30T23:59:00Z");
    await spend(ctx, 60);
    const refused = await refusal(ctx, 60);
    expect(refused.budget).toMatchObject({
      budgetId: budget.id,
      spent: 60,
      reserved: 0,
      estimate: 60,
      limit: 100,
    });
    expect(refused.status).toBe(402);
    const access = { org: org.row, role: "owner" as const, userId: owner.user.id };
    expect((await service.list(access))[0]).toMatchObject({ periodKey: "2026-11", spent: 60 });

    clock = new Date("2026-12-01T00:00:30Z");
    expect((await service.list(access))[0]).toMatchObject({ periodKey: null, spent: 0 });
    await spend(ctx, 60);
    expect((await service.list(access))[0]).toMatchObject({ periodKey: "2026-12", spent: 60 });
  });

  it("a run budget caps each job on its own; a task budget caps all of the task's jobs", async () => {
    const org = await newOrg();
    const project = (await owner.client.post(`/api/orgs/${org.slug}/projects`, { name: "P" })).json();
    const task = (
      await owner.client.post(`/api/orgs/${org.slug}/projects/${project.slug}/tasks`, { title: "Fix it" })
    ).json();
    const perRun = await addBudget(org.slug, { scope: "org", period: "run", unit: "tokens", limit: 100 });
    const perTask = await addBudget(org.slug, {
      scope: "task",
      scopeId: task.id,
      period: "monthly",
      unit: "tokens",
      limit: 150,
    });
    const job = (jobId: string): LlmCallContext => ({
      org: org.row,
      projectId: project.id,
      taskId: task.id,
      jobId,
      source: "job",
    });
    const [j1, j2, j3] = [randomUUID(), randomUUID(), randomUUID()];
    await spend(job(j1), 80);
    // The first job's run is nearly spent; a second job of the same task starts its own run.
    expect((await refusal(job(j1), 40)).budget).toMatchObject({
      budgetId: perRun.id,
      period: "run",
      spent: 80,
    });
    await spend(job(j2), 60);
    // Both runs count against the task: 140 of 150.
    const refused = await refusal(job(j3), 20);
    expect(refused.budget).toMatchObject({
      budgetId: perTask.id,
      scope: "task",
      scopeId: task.id,
      spent: 140,
    });
    expect(refused.message).toMatch(/task's monthly model budget is used up/);
    // The refusal rolled the whole reservation back: the third run holds nothing.
    const [run3] = await kiln.database.tenant(org.row.schemaName, (tx) =>
      tx
        .select()
        .from(budgetSpend)
        .where(and(eq(budgetSpend.budgetId, perRun.id), eq(budgetSpend.periodKey, `run:${j3}`))),
    );
    expect(run3?.reserved ?? 0).toBe(0);
    // A call outside any run (the proxy's) is held by the org's monthly budgets only; none here.
    expect(
      await ledger.reserve(
        { org: org.row, source: "proxy" },
        { provider: "openai", modelId: "m", inputTokens: 0, outputTokens: 10 },
      ),
    ).toBeUndefined();
    // Another task's job is not held by this task's budget.
    await spend({ ...job(randomUUID()), taskId: randomUUID() }, 90);
  });

  it("a project or user budget holds only that project's or user's calls", async () => {
    const org = await newOrg();
    const project = (await owner.client.post(`/api/orgs/${org.slug}/projects`, { name: "Q" })).json();
    await addBudget(org.slug, {
      scope: "project",
      scopeId: project.id,
      period: "monthly",
      unit: "tokens",
      limit: 50,
    });
    await addBudget(org.slug, {
      scope: "user",
      scopeId: owner.user.id,
      period: "monthly",
      unit: "tokens",
      limit: 80,
    });
    const chat = {
      org: org.row,
      projectId: project.id,
      userId: owner.user.id,
      messageId: randomUUID(),
      source: "chat" as const,
    };
    await spend(chat, 40);
    expect((await refusal(chat, 20)).budget).toMatchObject({ scope: "project", spent: 40 });
    // Elsewhere in the org the user still has 40 tokens of their own.
    const elsewhere = { org: org.row, userId: owner.user.id, source: "proxy" as const };
    await spend(elsewhere, 40);
    expect((await refusal(elsewhere, 1)).budget).toMatchObject({ scope: "user", spent: 80 });
    // Someone else's proxy calls are held by neither.
    await spend({ org: org.row, userId: randomUUID(), source: "proxy" }, 500);
  });
});
