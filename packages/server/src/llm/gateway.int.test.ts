import { randomBytes } from "node:crypto";
import path from "node:path";
import type { LanguageModelV4CallOptions } from "@ai-sdk/provider";
import { AddressPolicy } from "@kiln/agent";
import { type FakeProvider, startFakeProvider } from "@kiln/fake-provider";
import { generateText, streamText } from "ai";
import { desc, eq } from "drizzle-orm";
import pino from "pino";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { loadConfig } from "../config.ts";
import { llmCalls, llmProviders } from "../db/schema-tenant.ts";
import type { OrgAccess } from "../orgs/service.ts";
import { SecretBox } from "../secrets/secret-box.ts";
import { startTestKiln, type TestKiln, uniqueSlug } from "../testing/harness.ts";
import type { LlmCallContext } from "./call-context.ts";
import { LlmService } from "./service.ts";

/** The gateway as chats and jobs use it: `languageModel(ctx, ref)`, then the AI SDK or the raw model. */

let fake: FakeProvider;
let kiln: TestKiln;
let llm: LlmService;

beforeAll(async () => {
  fake = await startFakeProvider({ models: ["fake-model", "fake-listed"] });
  kiln = await startTestKiln({
    env: {
      OPENAI_BASE_URL: `${fake.url}/v1`,
      OPENAI_API_KEY: "sk-instance-openai",
      KILN_MODEL: "openai/fake-model",
      KILN_LLM_RETRY_BASE_MS: "1",
      KILN_LLM_MAX_RETRY_WAIT_SECONDS: "5",
      // The org providers below point at the fake provider on loopback: the operator exempts it.
      KILN_EGRESS_ALLOW: fake.url,
    },
  });
  llm = kiln.services.llm;
});
afterAll(async () => {
  await kiln?.stop();
  await fake?.close();
});
beforeEach(() => fake.reset());

/** A fresh org (so rows and rate-limit counters of one test never meet another's). */
async function newOrg(): Promise<OrgAccess> {
  const owner = await kiln.signup();
  const org = (await owner.client.post("/api/orgs", { name: "Gw", slug: uniqueSlug("gw") })).json();
  return kiln.services.orgs.access(owner.user.id, org.id);
}

function ctxOf(access: OrgAccess, extra: Partial<LlmCallContext> = {}): LlmCallContext {
  return { org: access.org, userId: access.userId, source: "chat", ...extra };
}

async function rows(access: OrgAccess) {
  await llm.calls.flush();
  return kiln.database.tenant(access.org.schemaName, (tx) =>
    tx.select().from(llmCalls).orderBy(desc(llmCalls.createdAt)),
  );
}

const prompt: LanguageModelV4CallOptions["prompt"] = [
  { role: "user", content: [{ type: "text", text: "hello" }] },
];

async function drain(stream: ReadableStream<unknown>): Promise<unknown[]> {
  const parts: unknown[] = [];
  const reader = stream.getReader();
  for (;;) {
    const next = await reader.read();
    if (next.done) return parts;
    parts.push(next.value);
  }
}

describe("languageModel", () => {
  it("resolves the instance default, with a context window, and streams through the AI SDK", async () => {
    const access = await newOrg();
    const { model, modelRef, contextWindow } = await llm.gateway.languageModel(
      ctxOf(access, { chatId: "chat-1", messageId: "msg-1" }),
    );
    expect([modelRef, contextWindow]).toEqual(["openai/fake-model", 128_000]);
    await kiln.services.llm.prices.upsert(access, {
      model: "fake-model",
      inputPerMTok: 2,
      outputPerMTok: 10,
    });
    fake.enqueue({
      text: "Hello, world.",
      usage: { inputTokens: 1_000, outputTokens: 100, cachedInputTokens: 200 },
    });
    const result = streamText({ model, prompt: "hi", maxRetries: 0 });
    expect(await result.text).toBe("Hello, world.");
    const [row] = await rows(access);
    expect(row).toMatchObject({
      source: "chat",
      chatId: "chat-1",
      messageId: "msg-1",
      userId: access.userId,
      provider: "openai",
      model: "fake-model",
      stream: true,
      status: "ok",
      inputTokens: 1_000,
      outputTokens: 100,
      cachedInputTokens: 200,
      attempts: 1,
    });
    // 800 × $2 + 200 cached (billed like input without a cached price) × $2 + 100 × $10, per million.
    expect(row!.costUsd).toBeCloseTo((1_000 * 2 + 100 * 10) / 1e6, 10);
    expect(row!.ttftMs).not.toBeNull();
    expect(row!.durationMs).toBeGreaterThanOrEqual(row!.ttftMs!);
  });

  it("knows the context window of common models and logs non-streamed calls", async () => {
    const access = await newOrg();
    const { model, contextWindow } = await llm.gateway.languageModel(
      ctxOf(access),
      "openai/gpt-4.1-mini-2025-04-14",
    );
    expect(contextWindow).toBe(1_047_576);
    fake.enqueue({ text: "short", usage: { inputTokens: 1_000_000, outputTokens: 0 } });
    expect((await generateText({ model, prompt: "hi", maxRetries: 0 })).text).toBe("short");
    const [row] = await rows(access);
    expect(row).toMatchObject({
      stream: false,
      status: "ok",
      ttftMs: null,
      model: "gpt-4.1-mini-2025-04-14",
    });
    expect(row!.costUsd).toBeCloseTo(0.4, 10); // built-in price of gpt-4.1-mini: $0.40 per million input tokens
  });

  it("refuses refs it cannot resolve, with codes", async () => {
    const access = await newOrg();
    await expect(llm.gateway.languageModel(ctxOf(access), "nowhere/x")).rejects.toMatchObject({
      code: "provider_not_found",
      status: 404,
    });
    for (const ref of ["no-slash", "Openai/x", "openai/", "openai/../x y", `${"a".repeat(41)}/x`]) {
      await expect(llm.gateway.languageModel(ctxOf(access), ref)).rejects.toMatchObject({
        code: "model_not_found",
      });
    }
    // No provider in the environment and no default anywhere: the caller learns what to configure.
    const bare = new LlmService({
      database: kiln.database,
      secrets: new SecretBox(randomBytes(32)),
      config: loadConfig({}).llm,
      egress: new AddressPolicy(),
      log: pino({ level: "silent" }),
      dataDir: path.join(kiln.dataDir, "bare"),
    });
    await expect(bare.gateway.languageModel(ctxOf(access))).rejects.toMatchObject({
      code: "model_not_configured",
      status: 400,
    });
    // An upstream 404 (unknown model) comes back as model_not_found.
    fake.enqueue({ error: { status: 404, message: "The model `nope` does not exist" } });
    const { model } = await llm.gateway.languageModel(ctxOf(access), "openai/nope");
    await expect(model.doGenerate({ prompt })).rejects.toMatchObject({
      code: "model_not_found",
      status: 404,
    });
  });

  it("an org provider shadows the instance provider of the same name and uses the org's key", async () => {
    const access = await newOrg();
    await llm.providers.create(access, {
      name: "openai",
      kind: "openai",
      baseUrl: `${fake.url}/v1`,
      apiKey: "sk-org-own-key-123456",
    });
    fake.enqueue({ text: "from the org's account" });
    const { model } = await llm.gateway.languageModel(ctxOf(access), "openai/fake-model");
    await model.doGenerate({ prompt });
    expect(fake.requests.at(-1)!.headers.authorization).toBe("Bearer sk-org-own-key-123456");
    // Another org still gets the instance's.
    const other = await newOrg();
    fake.enqueue({ text: "from the instance's account" });
    await (await llm.gateway.languageModel(ctxOf(other), "openai/fake-model")).model.doGenerate({ prompt });
    expect(fake.requests.at(-1)!.headers.authorization).toBe("Bearer sk-instance-openai");
  });

  it("uses the org's default model over the instance's", async () => {
    const access = await newOrg();
    await llm.settings.update(access, { defaultModel: "openai/fake-listed" });
    const { modelRef } = await llm.gateway.languageModel(ctxOf(access));
    expect(modelRef).toBe("openai/fake-listed");
  });
});

describe("retries", () => {
  it("a 429 with retry-after is waited out and retried; the row says ok after 2 attempts", async () => {
    const access = await newOrg();
    fake.enqueue(
      { error: { status: 429, retryAfterSeconds: 0.05 } },
      { text: "finally", usage: { inputTokens: 3, outputTokens: 1 } },
    );
    // The caller hears of the retry before the wait (the chat shows it), with what the provider said.
    const notices: unknown[] = [];
    const { model } = await llm.gateway.languageModel(ctxOf(access, { onRetry: (n) => notices.push(n) }));
    const { stream } = await model.doStream({ prompt });
    await drain(stream);
    expect(fake.requests.filter((r) => r.method === "POST")).toHaveLength(2);
    const [row] = await rows(access);
    expect(row).toMatchObject({ status: "ok", attempts: 2, inputTokens: 3, outputTokens: 1 });
    expect(notices).toEqual([
      { retry: 1, maxRetries: 3, waitMs: 50, code: "provider_rate_limited", message: expect.any(String) },
    ]);
  });

  it("5xx is retried up to the limit, then fails as provider_error and is logged once", async () => {
    const access = await newOrg();
    fake.enqueue({ repeat: { error: { status: 503 } } });
    const { model } = await llm.gateway.languageModel(ctxOf(access));
    await expect(model.doStream({ prompt })).rejects.toMatchObject({ code: "provider_error", status: 502 });
    expect(fake.requests.filter((r) => r.method === "POST")).toHaveLength(4);
    const all = await rows(access);
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({
      status: "error",
      errorCode: "provider_error",
      attempts: 4,
      inputTokens: 0,
    });
  });

  it("a provider asking to wait longer than the limit fails at once with the hint", async () => {
    const access = await newOrg();
    fake.enqueue({ error: { status: 429, retryAfterSeconds: 120 } });
    const { model } = await llm.gateway.languageModel(ctxOf(access));
    await expect(model.doGenerate({ prompt })).rejects.toMatchObject({
      code: "provider_rate_limited",
      status: 429,
      details: { retryAfterSeconds: 120 },
      headers: { "retry-after": "120" },
    });
    expect((await rows(access))[0]).toMatchObject({
      status: "error",
      errorCode: "provider_rate_limited",
      attempts: 1,
    });
  });

  it("a 400 is not retried", async () => {
    const access = await newOrg();
    fake.enqueue({ error: { status: 400, message: "bad tool schema" } });
    const { model } = await llm.gateway.languageModel(ctxOf(access));
    await expect(model.doGenerate({ prompt })).rejects.toMatchObject({ code: "provider_rejected" });
    expect(fake.requests).toHaveLength(1);
  });
});

describe("streams that end badly are logged too", () => {
  it("a stream cut mid-way: error row with estimated tokens", async () => {
    const access = await newOrg();
    fake.enqueue({
      cutAfterChunks: 4,
      reply: { text: "a sentence that the network will cut short", chunkSize: 4 },
    });
    const { model } = await llm.gateway.languageModel(ctxOf(access));
    const { stream } = await model.doStream({ prompt });
    await drain(stream).catch(() => {});
    const [row] = await rows(access);
    expect(row).toMatchObject({ status: "error", tokensEstimated: true });
    expect(["stream_interrupted", "provider_error", "provider_unreachable"]).toContain(row!.errorCode);
    expect(row!.outputTokens).toBeGreaterThan(0);
    expect(row!.ttftMs).not.toBeNull();
  });

  it("an aborted call: cancelled row", async () => {
    const access = await newOrg();
    fake.enqueue({ hangAfterChunks: 2, reply: { text: "never finishes", chunkSize: 2 } });
    const { model } = await llm.gateway.languageModel(ctxOf(access));
    const controller = new AbortController();
    const { stream } = await model.doStream({ prompt, abortSignal: controller.signal });
    const reader = stream.getReader();
    await reader.read();
    controller.abort();
    await reader.cancel().catch(() => {});
    const [row] = await rows(access);
    expect(row).toMatchObject({ status: "cancelled", errorCode: "cancelled" });
  });

  it("a reader that stops reading: cancelled row, written once", async () => {
    const access = await newOrg();
    fake.enqueue({ text: "plenty of text to read slowly", chunkSize: 2, delayMs: 5 });
    const { model } = await llm.gateway.languageModel(ctxOf(access));
    const { stream } = await model.doStream({ prompt });
    const reader = stream.getReader();
    await reader.read();
    await reader.read();
    await reader.cancel();
    const all = await rows(access);
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({ status: "cancelled" });
  });
});

describe("rate limit", () => {
  it("refuses the org's call over its limit with rate_limited and a retry hint, before the provider", async () => {
    const access = await newOrg();
    await llm.settings.update(access, { rateLimitPerMinute: 2 });
    fake.enqueue({ repeat: { text: "ok" } });
    for (let i = 0; i < 2; i++) {
      await (await llm.gateway.languageModel(ctxOf(access))).model.doGenerate({ prompt });
    }
    const { model } = await llm.gateway.languageModel(ctxOf(access));
    const refused = await model.doGenerate({ prompt }).then(
      () => undefined,
      (err: unknown) => err as { code: string; status: number; details: { retryAfterSeconds: number } },
    );
    expect(refused).toMatchObject({ code: "rate_limited", status: 429 });
    expect(refused!.details.retryAfterSeconds).toBeGreaterThan(0);
    expect(fake.requests).toHaveLength(2);
    // Another org is not affected.
    const other = await newOrg();
    await (await llm.gateway.languageModel(ctxOf(other))).model.doGenerate({ prompt });
    expect(fake.requests).toHaveLength(3);
  });
});

describe("keys at rest", () => {
  it("are sealed, bound to their row, and never leave in the API's shape", async () => {
    const access = await newOrg();
    const key = "sk-proj-THIS-IS-A-SECRET-abcd";
    const created = await llm.providers.create(access, { name: "vault", kind: "openai", apiKey: key });
    expect(created.apiKeyHint).toBe("sk-…abcd");
    expect(JSON.stringify(created)).not.toContain("SECRET");
    expect(JSON.stringify(await llm.providers.list(access))).not.toContain("SECRET");
    const [raw] = await kiln.database.tenant(access.org.schemaName, (tx) =>
      tx.select().from(llmProviders).where(eq(llmProviders.id, created.id)),
    );
    expect(raw!.apiKeySealed).toMatch(/^v1\./);
    expect(raw!.apiKeySealed).not.toContain("SECRET");
    // A sealed key copied into another row does not open there.
    const other = await llm.providers.create(access, {
      name: "copy",
      kind: "openai",
      apiKey: "sk-other-key-000000",
    });
    await kiln.database.tenant(access.org.schemaName, (tx) =>
      tx.update(llmProviders).set({ apiKeySealed: raw!.apiKeySealed }).where(eq(llmProviders.id, other.id)),
    );
    await expect(llm.gateway.languageModel(ctxOf(access), "copy/x")).rejects.toMatchObject({
      code: "provider_auth_failed",
      message: expect.stringMatching(/cannot be decrypted/),
    });
    const listed = await llm.gateway.listModels(access);
    expect(listed.providers.find((p) => p.name === "copy")?.listError).toMatch(/cannot be decrypted/);
  });
});
