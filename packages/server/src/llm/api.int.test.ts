import type { LanguageModelV4CallOptions } from "@ai-sdk/provider";
import { type FakeProvider, startFakeProvider } from "@kiln/fake-provider";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { query } from "../db/client.ts";
import type { TestClient } from "../testing/client.ts";
import { type SignedUp, startTestKiln, type TestKiln, uniqueSlug } from "../testing/harness.ts";

/** The org-facing LLM API: providers, models, prices, settings, the call log and usage. */

let fake: FakeProvider;
let kiln: TestKiln;

beforeAll(async () => {
  fake = await startFakeProvider({ models: ["fake-model", "fake-other"] });
  kiln = await startTestKiln({
    env: {
      OPENAI_BASE_URL: `${fake.url}/v1`,
      OPENAI_API_KEY: "sk-instance-openai",
      KILN_MODEL: "openai/fake-model",
      KILN_LLM_RETRY_BASE_MS: "1",
      KILN_LLM_RATE_LIMIT_PER_MINUTE: "500",
    },
  });
});
afterAll(async () => {
  await kiln?.stop();
  await fake?.close();
});
beforeEach(() => fake.reset());

interface Team {
  owner: SignedUp;
  slug: string;
  id: string;
  base: string;
}

async function team(): Promise<Team> {
  const owner = await kiln.signup();
  const org = (await owner.client.post("/api/orgs", { name: "LLM team", slug: uniqueSlug("llm") })).json();
  return { owner, slug: org.slug, id: org.id, base: `/api/orgs/${org.slug}` };
}

async function member(t: Team, role: string): Promise<TestClient> {
  const m = await kiln.signup();
  const invited = await t.owner.client.post(`${t.base}/invitations`, { email: m.user.email, role });
  await m.client.post(`/api/invitations/${new URL(invited.json().url).pathname.split("/").at(-1)}/accept`);
  return m.client;
}

const code = (res: { json(): unknown }) => (res.json() as { error?: { code?: string } }).error?.code;
const prompt: LanguageModelV4CallOptions["prompt"] = [
  { role: "user", content: [{ type: "text", text: "hi" }] },
];

describe("providers", () => {
  it("are created, listed, changed and deleted by admins; keys are only ever hinted", async () => {
    const t = await team();
    const c = t.owner.client;
    const key = "sk-live-TOPSECRET-9876";
    const created = await c.post(`${t.base}/llm/providers`, {
      name: "vllm",
      kind: "openai-compatible",
      baseUrl: "https://gpu.example.com/",
      apiKey: key,
      models: [{ id: "qwen2.5-coder", contextWindow: 32_768 }],
    });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({
      name: "vllm",
      kind: "openai-compatible",
      baseUrl: "https://gpu.example.com/v1",
      apiKeyHint: "sk-…9876",
      models: [{ id: "qwen2.5-coder", contextWindow: 32_768 }],
    });
    const id = created.json().id;
    const listed = await c.get(`${t.base}/llm/providers`);
    expect(listed.json()).toHaveLength(1);
    for (const body of [created.body, listed.body]) expect(body).not.toContain("TOPSECRET");

    const renamed = await c.patch(`${t.base}/llm/providers/${id}`, {
      name: "gpu",
      apiKey: "sk-new-key-0000000001",
    });
    expect(renamed.json()).toMatchObject({
      name: "gpu",
      apiKeyHint: "sk-…0001",
      baseUrl: "https://gpu.example.com/v1",
    });
    const cleared = await c.patch(`${t.base}/llm/providers/${id}`, { apiKey: null });
    expect(cleared.json().apiKeyHint).toBeNull();

    const [raw] = await query<{ api_key_sealed: string | null }>(
      kiln.database.db,
      sql.raw(`SELECT api_key_sealed FROM "org_${t.slug.replaceAll("-", "_")}".llm_providers`),
    );
    expect(raw!.api_key_sealed).toBeNull();

    expect((await c.delete(`${t.base}/llm/providers/${id}`)).json()).toEqual({ ok: true });
    expect(code(await c.delete(`${t.base}/llm/providers/${id}`))).toBe("provider_not_found");
  });

  it("refuses bad names, URLs and duplicates with codes", async () => {
    const t = await team();
    const c = t.owner.client;
    const post = (body: unknown) => c.post(`${t.base}/llm/providers`, body);
    expect((await post({ name: "dup", kind: "openai" })).statusCode).toBe(201);
    const cases: Array<[unknown, number, string]> = [
      [{ name: "dup", kind: "anthropic" }, 409, "provider_name_taken"],
      [{ name: "has/slash", kind: "openai" }, 400, "validation_failed"],
      [{ name: "Upper", kind: "openai" }, 400, "validation_failed"],
      [{ name: "x1", kind: "gemini" }, 400, "validation_failed"],
      [{ name: "x2", kind: "openai-compatible" }, 400, "validation_failed"],
      [{ name: "x3", kind: "ollama" }, 400, "validation_failed"],
      [{ name: "x4", kind: "openai", baseUrl: "ftp://example.com" }, 400, "validation_failed"],
      [{ name: "x5", kind: "openai", baseUrl: "https://user:pw@example.com/v1" }, 400, "validation_failed"],
      [{ name: "x6", kind: "openai", baseUrl: "not a url" }, 400, "validation_failed"],
      [{ name: "x7", kind: "openai", apiKey: " padded " }, 400, "validation_failed"],
      [{ name: "x8", kind: "openai", apiKey: "x".repeat(5000) }, 400, "validation_failed"],
      // Unless the operator exempts an address (KILN_EGRESS_ALLOW) an org cannot aim the server at its network.
      [{ name: "x9", kind: "ollama", baseUrl: "http://127.0.0.1:11434" }, 400, "egress_refused"],
      [{ name: "y1", kind: "openai", baseUrl: "http://169.254.169.254/latest" }, 400, "egress_refused"],
      [{ name: "y2", kind: "openai", baseUrl: "http://[::1]:8080" }, 400, "egress_refused"],
      [{ name: "y3", kind: "openai", baseUrl: "http://localhost:4000" }, 400, "egress_refused"],
      [{ name: "y4", kind: "openai", baseUrl: "http://10.1.2.3" }, 400, "egress_refused"],
    ];
    for (const [body, status, expected] of cases) {
      const res = await post(body);
      expect([JSON.stringify(body).slice(0, 60), res.statusCode, code(res)]).toEqual([
        JSON.stringify(body).slice(0, 60),
        status,
        expected,
      ]);
    }
    const dup = (await post({ name: "other", kind: "openai" })).json();
    expect(code(await c.patch(`${t.base}/llm/providers/${dup.id}`, { name: "dup" }))).toBe(
      "provider_name_taken",
    );
    expect(code(await c.patch(`${t.base}/llm/providers/${dup.id}`, {}))).toBe("validation_failed");
  });

  it("are an admin's to change; developers and viewers may only look", async () => {
    const t = await team();
    const created = (
      await t.owner.client.post(`${t.base}/llm/providers`, { name: "p", kind: "openai" })
    ).json();
    for (const role of ["developer", "viewer"]) {
      const c = await member(t, role);
      expect((await c.get(`${t.base}/llm/providers`)).statusCode).toBe(200);
      expect(code(await c.post(`${t.base}/llm/providers`, { name: "q", kind: "openai" }))).toBe("forbidden");
      expect(code(await c.patch(`${t.base}/llm/providers/${created.id}`, { name: "r" }))).toBe("forbidden");
      expect(code(await c.delete(`${t.base}/llm/providers/${created.id}`))).toBe("forbidden");
      expect(
        code(await c.put(`${t.base}/llm/prices`, { model: "m", inputPerMTok: 1, outputPerMTok: 1 })),
      ).toBe("forbidden");
      expect(code(await c.patch(`${t.base}/llm/settings`, { rateLimitPerMinute: 5 }))).toBe("forbidden");
    }
  });
});

describe("models", () => {
  it("lists instance models with their source, and an unreachable org provider's configured ones with why", async () => {
    const t = await team();
    await t.owner.client.post(`${t.base}/llm/providers`, {
      name: "mine",
      kind: "openai-compatible",
      baseUrl: "https://llm.kiln-test.invalid/v1",
      models: [{ id: "tiny", contextWindow: 4_096 }],
    });
    const res = await t.owner.client.get(`${t.base}/llm/models`);
    expect(res.statusCode).toBe(200);
    const list = res.json();
    expect(list.defaultModel).toBe("openai/fake-model");
    expect(list.models).toEqual(
      expect.arrayContaining([
        { ref: "mine/tiny", provider: "mine", modelId: "tiny", source: "org", contextWindow: 4_096 },
        {
          ref: "openai/fake-model",
          provider: "openai",
          modelId: "fake-model",
          source: "instance",
          contextWindow: 128_000,
        },
        {
          ref: "openai/fake-other",
          provider: "openai",
          modelId: "fake-other",
          source: "instance",
          contextWindow: 128_000,
        },
      ]),
    );
    const mine = list.providers.find((p: { name: string }) => p.name === "mine");
    expect(mine.listError).toBeTruthy();
    expect(list.providers.find((p: { name: string }) => p.name === "openai").listError).toBeNull();
  });
});

describe("settings", () => {
  it("hold the org's default model and a rate limit no higher than the instance's", async () => {
    const t = await team();
    const c = t.owner.client;
    expect((await c.get(`${t.base}/llm/settings`)).json()).toEqual({
      defaultModel: null,
      rateLimitPerMinute: null,
      effectiveDefaultModel: "openai/fake-model",
      effectiveRateLimitPerMinute: 500,
    });
    const set = await c.patch(`${t.base}/llm/settings`, {
      defaultModel: "openai/fake-other",
      rateLimitPerMinute: 10_000,
    });
    expect(set.json()).toMatchObject({
      defaultModel: "openai/fake-other",
      effectiveDefaultModel: "openai/fake-other",
      rateLimitPerMinute: 10_000,
      effectiveRateLimitPerMinute: 500,
    });
    expect(code(await c.patch(`${t.base}/llm/settings`, { defaultModel: "no slash" }))).toBe(
      "model_not_found",
    );
    expect(code(await c.patch(`${t.base}/llm/settings`, { rateLimitPerMinute: 0 }))).toBe(
      "validation_failed",
    );
    const reset = await c.patch(`${t.base}/llm/settings`, { defaultModel: null });
    expect(reset.json()).toMatchObject({ defaultModel: null, effectiveDefaultModel: "openai/fake-model" });
  });
});

describe("prices, the call log and usage", () => {
  it("price calls, page the log, and add up usage per day, model and project", async () => {
    const t = await team();
    const c = t.owner.client;
    const access = await kiln.services.orgs.access(t.owner.user.id, t.id);
    const projectA = (await c.post(`${t.base}/projects`, { name: "A" })).json();
    const projectB = (await c.post(`${t.base}/projects`, { name: "B" })).json();

    const prices = await c.get(`${t.base}/llm/prices`);
    expect(prices.json()).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ model: "gpt-4.1-mini", source: "builtin", id: null }),
      ]),
    );
    const price = await c.put(`${t.base}/llm/prices`, {
      model: "openai/fake-model",
      inputPerMTok: 1,
      outputPerMTok: 4,
      cachedInputPerMTok: 0.5,
    });
    expect(price.json()).toMatchObject({
      model: "openai/fake-model",
      source: "org",
      cachedInputPerMTok: 0.5,
    });
    // An upsert keeps the row.
    const again = await c.put(`${t.base}/llm/prices`, {
      model: "openai/fake-model",
      inputPerMTok: 2,
      outputPerMTok: 4,
    });
    expect(again.json().id).toBe(price.json().id);

    const calls: Array<[string | undefined, string, string | undefined]> = [
      [projectA.id, "openai/fake-model", "chat-a"],
      [projectA.id, "openai/fake-model", "chat-a"],
      [projectB.id, "openai/fake-other", "chat-b"],
      [undefined, "openai/fake-model", undefined],
    ];
    for (const [projectId, ref, chatId] of calls) {
      fake.enqueue({ text: "x", usage: { inputTokens: 1_000, outputTokens: 500, cachedInputTokens: 200 } });
      const { model } = await kiln.services.llm.gateway.languageModel(
        {
          org: access.org,
          userId: access.userId,
          source: "job",
          ...(projectId ? { projectId } : {}),
          ...(chatId ? { chatId } : {}),
        },
        ref,
      );
      await model.doGenerate({ prompt });
    }
    fake.enqueue({ error: { status: 400, message: "nope" } });
    const { model } = await kiln.services.llm.gateway.languageModel({
      org: access.org,
      source: "job",
      projectId: projectB.id,
    });
    await expect(model.doGenerate({ prompt })).rejects.toThrow();
    await kiln.services.llm.calls.flush();

    const page1 = (await c.get(`${t.base}/llm/calls?limit=2`)).json();
    expect(page1.calls).toHaveLength(2);
    expect(page1.nextBefore).toBe(page1.calls[1].id);
    const page2 = (await c.get(`${t.base}/llm/calls?limit=2&before=${page1.nextBefore}`)).json();
    const page3 = (await c.get(`${t.base}/llm/calls?limit=2&before=${page2.nextBefore}`)).json();
    expect([page2.calls.length, page3.calls.length, page3.nextBefore]).toEqual([2, 1, null]);
    const ids = [...page1.calls, ...page2.calls, ...page3.calls].map((x: { id: string }) => x.id);
    expect(new Set(ids).size).toBe(5);
    expect((await c.get(`${t.base}/llm/calls?chatId=chat-a`)).json().calls).toHaveLength(2);
    expect((await c.get(`${t.base}/llm/calls?projectId=${projectB.id}`)).json().calls).toHaveLength(2);

    const priced = (await c.get(`${t.base}/llm/calls?chatId=chat-a`)).json().calls[0];
    // 800 × $2 + 200 cached × $2 (the override set no cached price) + 500 × $4, per million.
    expect(priced.costUsd).toBeCloseTo((800 * 2 + 200 * 2 + 500 * 4) / 1e6, 12);
    const unpriced = (await c.get(`${t.base}/llm/calls?chatId=chat-b`)).json().calls[0];
    expect(unpriced.costUsd).toBeNull();

    const byModel = (await c.get(`${t.base}/usage?groupBy=model`)).json();
    expect(byModel.totals).toMatchObject({
      calls: 5,
      errors: 1,
      inputTokens: 4_000,
      outputTokens: 2_000,
      cachedInputTokens: 800,
    });
    expect(byModel.rows.map((r: { key: string; calls: number }) => [r.key, r.calls])).toEqual([
      ["openai/fake-model", 4],
      ["openai/fake-other", 1],
    ]);
    // fake-other has no price: its call counts, its cost is unknown (not a $0).
    expect(byModel.totals.unpricedCalls).toBe(1);
    expect(byModel.rows.map((r: { key: string; unpricedCalls: number }) => [r.key, r.unpricedCalls])).toEqual(
      [
        ["openai/fake-model", 0],
        ["openai/fake-other", 1],
      ],
    );
    const byProject = (await c.get(`${t.base}/usage?groupBy=project`)).json();
    const perProject = Object.fromEntries(
      byProject.rows.map((r: { key: string | null; calls: number }) => [r.key, r.calls]),
    );
    expect(perProject).toEqual({ [projectA.id]: 2, [projectB.id]: 2, null: 1 });
    const byDay = (await c.get(`${t.base}/usage`)).json();
    expect(byDay.groupBy).toBe("day");
    expect(byDay.rows).toEqual([
      expect.objectContaining({ key: new Date().toISOString().slice(0, 10), calls: 5 }),
    ]);
    const onlyB = (await c.get(`${t.base}/usage?projectId=${projectB.id}`)).json();
    expect(onlyB.totals.calls).toBe(2);
    const past = (await c.get(`${t.base}/usage?from=2020-01-01T00:00:00Z&to=2020-02-01T00:00:00Z`)).json();
    expect([past.totals.calls, past.rows]).toEqual([0, []]);

    // A viewer reads usage and the log.
    const viewer = await member(t, "viewer");
    expect((await viewer.get(`${t.base}/usage`)).json().totals.calls).toBe(5);
    expect((await viewer.get(`${t.base}/llm/calls`)).statusCode).toBe(200);

    expect((await c.delete(`${t.base}/llm/prices/${price.json().id}`)).json()).toEqual({ ok: true });
    expect(code(await c.delete(`${t.base}/llm/prices/${price.json().id}`))).toBe("price_not_found");
  });

  it("refuses bad queries", async () => {
    const t = await team();
    const c = t.owner.client;
    for (const q of [
      "/llm/calls?limit=0",
      "/llm/calls?limit=1000",
      "/llm/calls?before=nope",
      "/llm/calls?projectId=../../x",
      "/llm/calls?chatId=a%20b",
      "/llm/calls?extra=1",
      "/usage?groupBy=week",
      "/usage?from=yesterday",
      "/usage?from=2025-02-01T00:00:00Z&to=2025-01-01T00:00:00Z",
      "/usage?from=2020-01-01T00:00:00Z&to=2025-01-01T00:00:00Z",
    ]) {
      const res = await c.get(`${t.base}${q}`);
      expect([q, res.statusCode, code(res)]).toEqual([q, 400, "validation_failed"]);
    }
    const unknownCursor = await c.get(`${t.base}/llm/calls?before=00000000-0000-4000-8000-000000000000`);
    expect(unknownCursor.json()).toEqual({ calls: [], nextBefore: null });
  });
});
