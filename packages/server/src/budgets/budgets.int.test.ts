import type { AddressInfo } from "node:net";
import Anthropic from "@anthropic-ai/sdk";
import { type FakeProvider, startFakeProvider } from "@kiln/fake-provider";
import type { Budget, ChatMessage, Role } from "@kiln/protocol";
import { sql } from "drizzle-orm";
import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { query } from "../db/client.ts";
import { type SignedUp, startTestKiln, type TestKiln, uniqueSlug } from "../testing/harness.ts";

/**
 * Spend budgets end to end (ADR 0029): the official clients against Kiln's /v1 proxy on a real port, a chat
 * turn, the routes; the fake provider plays the upstream. The price of `fake-model` is set per org so that
 * one token costs $0.001.
 */

let fake: FakeProvider;
let kiln: TestKiln;
let base: string;
let owner: SignedUp;
let token: string;

beforeAll(async () => {
  fake = await startFakeProvider();
  kiln = await startTestKiln({
    env: {
      OPENAI_BASE_URL: `${fake.url}/v1`,
      OPENAI_API_KEY: "sk-instance-openai",
      ANTHROPIC_BASE_URL: fake.url,
      ANTHROPIC_API_KEY: "sk-instance-anthropic",
      KILN_MODEL: "openai/fake-model",
      KILN_LLM_RETRY_BASE_MS: "1",
      KILN_LLM_RATE_LIMIT_PER_MINUTE: "1000",
    },
  });
  await kiln.app.listen({ port: 0, host: "127.0.0.1" });
  base = `http://127.0.0.1:${(kiln.app.server.address() as AddressInfo).port}`;
  owner = await kiln.signup();
  token = (await owner.client.post("/api/auth/tokens", { name: "worker" })).json().token;
}, 120_000);
afterAll(async () => {
  await kiln?.stop();
  await fake?.close();
});
beforeEach(() => fake.reset());

const openai = (org: string, apiKey = token) =>
  new OpenAI({ baseURL: `${base}/v1`, apiKey, maxRetries: 0, defaultHeaders: { "x-kiln-org": org } });
const anthropic = (org: string) =>
  new Anthropic({ baseURL: base, apiKey: token, maxRetries: 0, defaultHeaders: { "x-kiln-org": org } });

/** A fresh org of the owner's, with `fake-model` priced at $1000 per million tokens either way. */
async function newOrg(): Promise<{ slug: string; id: string; schema: string }> {
  const slug = uniqueSlug("bud");
  const created = await owner.client.post("/api/orgs", { name: `Budgeted ${slug}`, slug });
  expect(created.statusCode).toBe(201);
  const { id } = created.json();
  const price = await owner.client.put(`/api/orgs/${slug}/llm/prices`, {
    model: "fake-model",
    inputPerMTok: 1000,
    outputPerMTok: 1000,
  });
  expect(price.statusCode).toBe(200);
  const [row] = await query<{ schema_name: string }>(
    kiln.database.db,
    sql`SELECT schema_name FROM orgs WHERE id = ${id}::uuid`,
  );
  return { id, slug, schema: row!.schema_name };
}

async function addBudget(org: string, body: Record<string, unknown>): Promise<Budget> {
  const res = await owner.client.post(`/api/orgs/${org}/budgets`, body);
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

/** The budget as the usage page sees it, once every settlement so far is written. */
async function budgetNow(org: string, id: string): Promise<Budget> {
  await kiln.services.budgetLedger.flush();
  const list = (await owner.client.get(`/api/orgs/${org}/budgets`)).json() as Budget[];
  return list.find((b) => b.id === id)!;
}

async function join(org: string, role: Role): Promise<SignedUp> {
  const member = await kiln.signup();
  const invited = await owner.client.post(`/api/orgs/${org}/invitations`, { email: member.user.email, role });
  expect(invited.statusCode).toBe(201);
  const accepted = await member.client.post(
    `/api/invitations/${new URL(invited.json().url).pathname.split("/").at(-1)}/accept`,
  );
  expect(accepted.statusCode).toBe(200);
  return member;
}

const hello = [{ role: "user" as const, content: "hello" }];

describe("the hard cap", () => {
  it("ten concurrent /v1 calls against a small cap overshoot it by at most one reservation", async () => {
    const org = await newOrg();
    // Each call reserves ceil(5 / 4) + 100 = 102 tokens and uses 100: four fit under 450 at once.
    const budget = await addBudget(org.slug, { scope: "org", period: "monthly", unit: "tokens", limit: 450 });
    fake.setResponder(() => ({ text: "ok", delayMs: 25, usage: { inputTokens: 20, outputTokens: 80 } }));
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, async () => {
        const stream = await openai(org.slug).chat.completions.create({
          model: "openai/fake-model",
          messages: hello,
          max_tokens: 100,
          stream: true,
          stream_options: { include_usage: true },
        });
        for await (const _ of stream);
      }),
    );
    const ok = results.filter((r) => r.status === "fulfilled");
    const refused = results.flatMap((r) => (r.status === "rejected" ? [r.reason] : []));
    expect(refused.length).toBeGreaterThanOrEqual(1);
    for (const err of refused) {
      expect(err).toMatchObject({ status: 402, code: "budget_exceeded", type: "insufficient_quota" });
    }
    // A refused call never reaches the provider and is not logged as a call.
    expect(fake.requests.filter((r) => r.method === "POST")).toHaveLength(ok.length);
    const after = await budgetNow(org.slug, budget.id);
    expect(after.spent).toBe(ok.length * 100);
    expect(after.spent).toBeLessThanOrEqual(450 + 102);
    expect(after.reserved).toBe(0);
    await kiln.services.llm.calls.flush();
    const [logged] = await query<{ n: number }>(
      kiln.database.db,
      sql.raw(`SELECT count(*)::int AS n FROM "${org.schema}".llm_calls`),
    );
    expect(logged!.n).toBe(ok.length);
  });

  it("refuses a capped org's /v1 call in the caller's wire format, until an admin raises the cap", async () => {
    const org = await newOrg();
    const budget = await addBudget(org.slug, { scope: "org", period: "monthly", unit: "usd", limit: 1 });
    // The provider reports more than the call asked for: $1.02 spent, over the $1 cap.
    fake.enqueue({ text: "long", usage: { inputTokens: 20, outputTokens: 1000 } });
    await openai(org.slug).chat.completions.create({
      model: "openai/fake-model",
      messages: hello,
      max_tokens: 50,
    });
    expect((await budgetNow(org.slug, budget.id)).spent).toBeCloseTo(1.02, 6);
    const upstreamBefore = fake.requests.length;

    const refusedOpenAi = await openai(org.slug)
      .chat.completions.create({ model: "openai/fake-model", messages: hello, max_tokens: 50 })
      .catch((err: unknown) => err);
    expect(refusedOpenAi).toBeInstanceOf(OpenAI.APIError);
    expect(refusedOpenAi).toMatchObject({
      status: 402,
      code: "budget_exceeded",
      type: "insufficient_quota",
      error: {
        details: { budgetId: budget.id, scope: "org", period: "monthly", unit: "usd", limit: 1 },
      },
    });
    expect((refusedOpenAi as Error).message).toMatch(/model budget is used up.*admin can raise/);

    const streamed = await openai(org.slug)
      .chat.completions.create({ model: "openai/fake-model", messages: hello, stream: true })
      .catch((err: unknown) => err);
    expect(streamed).toMatchObject({ status: 402, code: "budget_exceeded" });

    const refusedAnthropic = await anthropic(org.slug)
      .messages.create({ model: "anthropic/fake-model", max_tokens: 50, messages: hello })
      .catch((err: unknown) => err);
    expect(refusedAnthropic).toBeInstanceOf(Anthropic.APIError);
    expect(refusedAnthropic).toMatchObject({
      status: 402,
      error: { type: "error", error: { type: "billing_error", code: "budget_exceeded" } },
    });
    expect(fake.requests.length).toBe(upstreamBefore);

    // A developer may read the budget but not raise it; an admin may.
    const developer = await join(org.slug, "developer");
    expect((await developer.client.get(`/api/orgs/${org.slug}/budgets`)).statusCode).toBe(200);
    const denied = await developer.client.patch(`/api/orgs/${org.slug}/budgets/${budget.id}`, { limit: 10 });
    expect([denied.statusCode, denied.json().error.code]).toEqual([403, "forbidden"]);
    const raised = await owner.client.patch(`/api/orgs/${org.slug}/budgets/${budget.id}`, { limit: 10 });
    expect([raised.statusCode, raised.json().limit]).toEqual([200, 10]);
    fake.enqueue({ text: "again", usage: { inputTokens: 2, outputTokens: 3 } });
    const res = await openai(org.slug).chat.completions.create({
      model: "openai/fake-model",
      messages: hello,
      max_tokens: 50,
    });
    expect(res.choices[0]!.message.content).toBe("again");
  });

  it("a failed or cancelled call gives its reservation back and books only what it used", async () => {
    const org = await newOrg();
    const budget = await addBudget(org.slug, {
      scope: "org",
      period: "monthly",
      unit: "tokens",
      limit: 1000,
    });
    fake.enqueue({ error: { status: 400, message: "context too long" } });
    await expect(
      openai(org.slug).chat.completions.create({
        model: "openai/fake-model",
        messages: hello,
        max_tokens: 500,
      }),
    ).rejects.toMatchObject({ status: 400 });
    expect(await budgetNow(org.slug, budget.id)).toMatchObject({ spent: 0, reserved: 0 });

    fake.enqueue({ hangAfterChunks: 2, reply: { text: "a long answer that never ends", chunkSize: 4 } });
    const stream = await openai(org.slug).chat.completions.create({
      model: "openai/fake-model",
      messages: hello,
      max_tokens: 500,
      stream: true,
    });
    // Leaving the loop aborts the client's request: the caller hangs up mid-answer.
    for await (const _ of stream) break;
    // The proxy notices the hang-up, cancels upstream and settles what the text suggests it used.
    const end = Date.now() + 10_000;
    let now = await budgetNow(org.slug, budget.id);
    while (now.reserved !== 0 && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 50));
      now = await budgetNow(org.slug, budget.id);
    }
    expect(now.reserved).toBe(0);
    expect(now.spent).toBeLessThan(502);
  });

  it("ends a chat turn with a clear budget_exceeded message", async () => {
    const org = await newOrg();
    const project = (
      await owner.client.post(`/api/orgs/${org.slug}/projects`, { name: "P", template: "static" })
    ).json();
    await addBudget(org.slug, {
      scope: "project",
      scopeId: project.id,
      period: "monthly",
      unit: "usd",
      limit: 0.5,
    });
    const chat = (await owner.client.post(`/api/orgs/${org.slug}/projects/${project.slug}/chats`, {})).json();
    const base = `/api/orgs/${org.slug}/projects/${project.slug}/chats/${chat.id}`;
    // A turn reserves its whole output allowance: far more than $0.50 at this price.
    expect((await owner.client.post(`${base}/messages`, { content: "build it" })).statusCode).toBe(202);
    const end = Date.now() + 30_000;
    let last: ChatMessage | undefined;
    while (Date.now() < end) {
      last = (await owner.client.get(base)).json().messages.at(-1);
      if (last?.status !== "running") break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(last).toMatchObject({ status: "failed", reason: "budget_exceeded" });
    expect(last!.detail).toMatch(/project's monthly model budget is used up.*admin can raise/);
    expect(fake.requests.filter((r) => r.method === "POST")).toHaveLength(0);
  });
});

describe("the soft cap", () => {
  it("mails the org's owners and admins once per period when spend crosses 80%", async () => {
    const org = await newOrg();
    const admin = await join(org.slug, "admin");
    const developer = await join(org.slug, "developer");
    const budget = await addBudget(org.slug, { scope: "org", period: "monthly", unit: "usd", limit: 1 });
    const mailsTo = (email: string) =>
      kiln.mails.sent.filter((m) => m.to === email && m.subject.includes(`Budgeted ${org.slug} has used`));
    // $0.30 a call: the third crosses $0.80, the fourth goes on to $1.20 without a second mail.
    for (let i = 0; i < 4; i++) {
      fake.enqueue({ text: "ok", usage: { inputTokens: 30, outputTokens: 270 } });
      await openai(org.slug).chat.completions.create({
        model: "openai/fake-model",
        messages: hello,
        max_tokens: 40,
      });
      await kiln.services.budgetLedger.flush();
      expect(mailsTo(owner.user.email)).toHaveLength(i >= 2 ? 1 : 0);
    }
    expect(mailsTo(admin.user.email)).toHaveLength(1);
    expect(mailsTo(developer.user.email)).toHaveLength(0);
    const mail = mailsTo(owner.user.email)[0]!;
    expect(mail.subject).toContain("90%");
    expect(mail.text).toContain(`/${org.slug}/usage`);
    expect(mail.text).toContain("$0.90 of $1.00");
    expect((await budgetNow(org.slug, budget.id)).spent).toBeCloseTo(1.2, 6);
  });
});
