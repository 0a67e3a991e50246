import type { AddressInfo } from "node:net";
import Anthropic from "@anthropic-ai/sdk";
import { type FakeProvider, startFakeProvider } from "@kiln/fake-provider";
import { desc, sql } from "drizzle-orm";
import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { query } from "../../db/client.ts";
import { llmCalls } from "../../db/schema-tenant.ts";
import { type SignedUp, startTestKiln, type TestKiln, uniqueSlug } from "../../testing/harness.ts";

/**
 * The official clients, unchanged, against Kiln's proxy on a real port; the fake provider plays the
 * upstream. Either API reaches either upstream (`openai/…` or `anthropic/…` refs).
 */

type ErrorBody = { error: { code: string } };

let fake: FakeProvider;
let kiln: TestKiln;
let base: string;
let owner: SignedUp;
let token: string;
let schema: string;

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
    },
  });
  await kiln.app.listen({ port: 0, host: "127.0.0.1" });
  base = `http://127.0.0.1:${(kiln.app.server.address() as AddressInfo).port}`;
  owner = await kiln.signup();
  token = (await owner.client.post("/api/auth/tokens", { name: "worker" })).json().token;
  schema = await schemaOf(owner.personalOrg.orgId);
});
afterAll(async () => {
  await kiln?.stop();
  await fake?.close();
});
beforeEach(() => fake.reset());

const openai = (apiKey = token, headers: Record<string, string> = {}) =>
  new OpenAI({ baseURL: `${base}/v1`, apiKey, maxRetries: 0, defaultHeaders: headers });
const anthropic = (apiKey = token, headers: Record<string, string> = {}) =>
  new Anthropic({ baseURL: base, apiKey, maxRetries: 0, defaultHeaders: headers });

async function schemaOf(orgId: string): Promise<string> {
  const [row] = await query<{ schema_name: string }>(
    kiln.database.db,
    sql`SELECT schema_name FROM orgs WHERE id = ${orgId}::uuid`,
  );
  return row!.schema_name;
}

async function lastCall(inSchema = schema) {
  await kiln.services.llm.calls.flush();
  const [row] = await kiln.database.tenant(inSchema, (tx) =>
    tx.select().from(llmCalls).orderBy(desc(llmCalls.createdAt)).limit(1),
  );
  return row!;
}

const weather = {
  type: "function" as const,
  function: {
    name: "get_weather",
    description: "Weather for a city",
    parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  },
};

describe("POST /v1/chat/completions with the official openai client", () => {
  it("answers with tool calls and usage, and logs the call", async () => {
    fake.enqueue({
      text: "Let me check.",
      toolCalls: [{ id: "call_1", name: "get_weather", arguments: { city: "Oslo" } }],
      usage: { inputTokens: 40, outputTokens: 7, cachedInputTokens: 8 },
    });
    const res = await openai().chat.completions.create({
      model: "openai/fake-model",
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Weather in Oslo?" },
      ],
      tools: [weather],
      temperature: 0.2,
      max_tokens: 100,
    });
    expect(res.object).toBe("chat.completion");
    expect(res.model).toBe("openai/fake-model");
    expect(res.choices[0]!.finish_reason).toBe("tool_calls");
    expect(res.choices[0]!.message.content).toBe("Let me check.");
    expect(res.choices[0]!.message.tool_calls).toEqual([
      { id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Oslo"}' } },
    ]);
    expect(res.usage).toMatchObject({ prompt_tokens: 40, completion_tokens: 7, total_tokens: 47 });
    expect(res.usage!.prompt_tokens_details!.cached_tokens).toBe(8);

    // What reached the upstream: the instance's key (never the caller's Kiln token), the model id alone.
    const upstream = fake.requests.at(-1)!;
    expect(upstream.headers.authorization).toBe("Bearer sk-instance-openai");
    const sent = upstream.body as {
      model: string;
      messages: unknown[];
      tools: unknown[];
      temperature: number;
    };
    expect(sent.model).toBe("fake-model");
    expect(sent.messages).toHaveLength(2);
    expect(sent.tools).toHaveLength(1);
    expect(sent.temperature).toBe(0.2);

    const row = await lastCall();
    expect(row).toMatchObject({
      source: "proxy",
      provider: "openai",
      model: "fake-model",
      stream: false,
      inputTokens: 40,
      outputTokens: 7,
      cachedInputTokens: 8,
      status: "ok",
      userId: owner.user.id,
      attempts: 1,
      tokensEstimated: false,
    });
  });

  it("streams text deltas, the finish reason and a usage chunk", async () => {
    fake.enqueue({
      text: "one two three four five six",
      chunkSize: 4,
      usage: { inputTokens: 12, outputTokens: 6 },
    });
    const stream = await openai().chat.completions.create({
      model: "openai/fake-model",
      messages: [{ role: "user", content: "count" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let deltas = 0;
    let finish: string | null | undefined;
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      if (choice?.delta.content) {
        text += choice.delta.content;
        deltas++;
      }
      if (choice?.finish_reason) finish = choice.finish_reason;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe("one two three four five six");
    expect(deltas).toBeGreaterThan(3);
    expect(finish).toBe("stop");
    expect(usage).toMatchObject({ prompt_tokens: 12, completion_tokens: 6 });
    const row = await lastCall();
    expect(row).toMatchObject({ stream: true, status: "ok", inputTokens: 12, outputTokens: 6 });
    expect(row.ttftMs).not.toBeNull();
  });

  it("streams tool-call arguments, and takes the tool result back in the next turn", async () => {
    fake.enqueue(
      {
        toolCalls: [{ id: "call_w", name: "get_weather", arguments: { city: "Bergen, Norway" } }],
        chunkSize: 5,
      },
      { text: "Rainy." },
    );
    const stream = await openai().chat.completions.create({
      model: "openai/fake-model",
      messages: [{ role: "user", content: "Weather in Bergen?" }],
      tools: [weather],
      stream: true,
    });
    let args = "";
    let id: string | undefined;
    let name: string | undefined;
    let pieces = 0;
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      for (const call of chunk.choices[0]?.delta.tool_calls ?? []) {
        expect(call.index).toBe(0);
        id ??= call.id;
        name ??= call.function?.name;
        if (call.function?.arguments) {
          args += call.function.arguments;
          pieces++;
        }
      }
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect([id, name, JSON.parse(args)]).toEqual(["call_w", "get_weather", { city: "Bergen, Norway" }]);
    expect(pieces).toBeGreaterThan(1);
    expect(finish).toBe("tool_calls");

    const next = await openai().chat.completions.create({
      model: "openai/fake-model",
      messages: [
        { role: "user", content: "Weather in Bergen?" },
        {
          role: "assistant",
          content: null,
          tool_calls: [
            { id: "call_w", type: "function", function: { name: "get_weather", arguments: args } },
          ],
        },
        { role: "tool", tool_call_id: "call_w", content: "rain, 9°C" },
      ],
      tools: [weather],
    });
    expect(next.choices[0]!.message.content).toBe("Rainy.");
    const sent = fake.requests.at(-1)!.body as { messages: Array<Record<string, unknown>> };
    expect(sent.messages.at(-1)).toMatchObject({
      role: "tool",
      tool_call_id: "call_w",
      content: "rain, 9°C",
    });
  });

  it("reaches an Anthropic upstream just the same", async () => {
    fake.enqueue({
      text: "Hello from the other side.",
      usage: { inputTokens: 20, outputTokens: 5, cachedInputTokens: 4 },
    });
    const res = await openai().chat.completions.create({
      model: "anthropic/claude-fake",
      messages: [
        { role: "system", content: "sys" },
        { role: "user", content: "hi" },
      ],
    });
    expect(res.choices[0]!.message.content).toBe("Hello from the other side.");
    expect(res.usage).toMatchObject({ prompt_tokens: 20, completion_tokens: 5 });
    const upstream = fake.requests.at(-1)!;
    expect(upstream.api).toBe("anthropic");
    expect((upstream.body as { system: unknown }).system).toBeDefined();
    expect(await lastCall()).toMatchObject({
      provider: "anthropic",
      model: "claude-fake",
      cachedInputTokens: 4,
    });
  });
});

describe("POST /v1/messages with the official @anthropic-ai/sdk client", () => {
  it("answers with tool_use blocks from an OpenAI upstream", async () => {
    fake.enqueue({
      text: "Checking.",
      toolCalls: [{ id: "call_9", name: "get_weather", arguments: { city: "Rome" } }],
      usage: { inputTokens: 30, outputTokens: 9, cachedInputTokens: 10 },
    });
    const msg = await anthropic().messages.create({
      model: "openai/fake-model",
      max_tokens: 200,
      system: "Be brief.",
      messages: [{ role: "user", content: "Weather in Rome?" }],
      tools: [
        {
          name: "get_weather",
          description: "Weather",
          input_schema: { type: "object", properties: { city: { type: "string" } } },
        },
      ],
    });
    expect(msg.type).toBe("message");
    expect(msg.model).toBe("openai/fake-model");
    expect(msg.stop_reason).toBe("tool_use");
    expect(msg.content).toEqual([
      { type: "text", text: "Checking." },
      { type: "tool_use", id: "call_9", name: "get_weather", input: { city: "Rome" } },
    ]);
    // Anthropic counts cache reads apart from input_tokens.
    expect(msg.usage).toMatchObject({ input_tokens: 20, output_tokens: 9, cache_read_input_tokens: 10 });
    const upstream = fake.requests.at(-1)!;
    expect(upstream.api).toBe("openai");
    expect((upstream.body as { messages: Array<{ role: string }> }).messages[0]!.role).toBe("system");
  });

  it("streams from an Anthropic upstream: text, then a tool_use, with usage; x-api-key works", async () => {
    fake.enqueue({
      text: "Looking it up.",
      toolCalls: [{ id: "toolu_1", name: "get_weather", arguments: { city: "Lima" } }],
      usage: { inputTokens: 50, outputTokens: 11 },
      chunkSize: 3,
    });
    // An explicit x-api-key header, no Authorization: the way older Anthropic clients authenticate.
    const client = new Anthropic({
      baseURL: base,
      apiKey: null,
      authToken: null,
      maxRetries: 0,
      defaultHeaders: { "x-api-key": token },
    });
    const stream = client.messages.stream({
      model: "anthropic/claude-fake",
      max_tokens: 100,
      messages: [{ role: "user", content: "Weather in Lima?" }],
      tools: [
        { name: "get_weather", input_schema: { type: "object", properties: { city: { type: "string" } } } },
      ],
    });
    let text = "";
    stream.on("text", (delta) => {
      text += delta;
    });
    const final = await stream.finalMessage();
    expect(text).toBe("Looking it up.");
    expect(final.content).toEqual([
      { type: "text", text: "Looking it up." },
      { type: "tool_use", id: "toolu_1", name: "get_weather", input: { city: "Lima" } },
    ]);
    expect(final.stop_reason).toBe("tool_use");
    expect(final.usage).toMatchObject({ input_tokens: 50, output_tokens: 11 });
    expect(fake.requests.at(-1)!.headers["x-api-key"] ?? fake.requests.at(-1)!.headers.authorization).toMatch(
      /sk-instance-anthropic/,
    );
    expect(await lastCall()).toMatchObject({
      stream: true,
      status: "ok",
      provider: "anthropic",
      inputTokens: 50,
    });
  });

  it("sends tool results back as the upstream's tool messages", async () => {
    fake.enqueue({ text: "Sunny in Lima." });
    const msg = await anthropic().messages.create({
      model: "openai/fake-model",
      max_tokens: 50,
      messages: [
        { role: "user", content: "Weather in Lima?" },
        {
          role: "assistant",
          content: [{ type: "tool_use", id: "toolu_1", name: "get_weather", input: { city: "Lima" } }],
        },
        {
          role: "user",
          content: [
            { type: "tool_result", tool_use_id: "toolu_1", content: "sunny" },
            { type: "text", text: "and?" },
          ],
        },
      ],
    });
    expect(msg.content).toEqual([{ type: "text", text: "Sunny in Lima." }]);
    const sent = fake.requests.at(-1)!.body as { messages: Array<Record<string, unknown>> };
    expect(sent.messages.map((m) => m.role)).toEqual(["user", "assistant", "tool", "user"]);
    expect(sent.messages[2]).toMatchObject({ tool_call_id: "toolu_1", content: "sunny" });
  });
});

describe("GET /v1/models", () => {
  it("lists the org's models as Kiln refs to both clients", async () => {
    const openaiList = await openai().models.list();
    expect(openaiList.data.map((m) => m.id)).toEqual(expect.arrayContaining(["openai/fake-model"]));
    const anthropicList = await anthropic().models.list();
    expect(anthropicList.data.map((m) => m.id)).toEqual(expect.arrayContaining(["openai/fake-model"]));
  });
});

describe("who may use the proxy", () => {
  it("refuses a missing, wrong or cookie-only credential", async () => {
    const plain = (headers: Record<string, string>) =>
      fetch(`${base}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify({ model: "openai/fake-model", messages: [{ role: "user", content: "hi" }] }),
      });
    expect((await plain({})).status).toBe(401);
    expect((await plain({ authorization: "Bearer kiln_pat_nope" })).status).toBe(401);
    // A browser's session cookie (and CSRF token) is no credential here.
    const cookie = [...owner.client.cookies].map(([k, v]) => `${k}=${v.value}`).join("; ");
    const res = await plain({ cookie, "x-csrf-token": owner.client.csrf! });
    expect([res.status, ((await res.json()) as ErrorBody).error.code]).toEqual([401, "unauthenticated"]);
    expect(fake.requests).toHaveLength(0);
  });

  it("answers 404 for another tenant's org or project, and 403 below developer", async () => {
    const other = await kiln.signup();
    const project = (
      await other.client.post(`/api/orgs/${other.personalOrg.slug}/projects`, { name: "Theirs" })
    ).json();
    const call = (headers: Record<string, string>) =>
      openai(token, headers).chat.completions.create({
        model: "openai/fake-model",
        messages: [{ role: "user", content: "hi" }],
      });
    for (const org of [other.personalOrg.orgId, other.personalOrg.slug]) {
      await expect(call({ "x-kiln-org": org })).rejects.toMatchObject({
        status: 404,
        error: { code: "org_not_found" },
      });
    }
    await expect(call({ "x-kiln-project": project.id })).rejects.toMatchObject({
      status: 404,
      error: { code: "project_not_found" },
    });

    const team = (await owner.client.post("/api/orgs", { name: "Team", slug: uniqueSlug("team") })).json();
    const viewer = await kiln.signup();
    const invited = await owner.client.post(`/api/orgs/${team.slug}/invitations`, {
      email: viewer.user.email,
      role: "viewer",
    });
    await viewer.client.post(
      `/api/invitations/${new URL(invited.json().url).pathname.split("/").at(-1)}/accept`,
    );
    const viewerToken = (await viewer.client.post("/api/auth/tokens", { name: "w" })).json().token;
    await expect(
      openai(viewerToken, { "x-kiln-org": team.slug }).chat.completions.create({
        model: "openai/fake-model",
        messages: [{ role: "user", content: "hi" }],
      }),
    ).rejects.toMatchObject({ status: 403, error: { code: "forbidden" } });
    expect(fake.requests).toHaveLength(0);
  });

  it("bills the org and project named in the headers", async () => {
    const team = (await owner.client.post("/api/orgs", { name: "Billing", slug: uniqueSlug("bill") })).json();
    const project = (await owner.client.post(`/api/orgs/${team.slug}/projects`, { name: "P" })).json();
    fake.enqueue({ text: "ok" });
    await openai(token, { "x-kiln-org": team.id, "x-kiln-project": project.slug }).chat.completions.create({
      model: "openai/fake-model",
      messages: [{ role: "user", content: "hi" }],
    });
    const row = await lastCall(await schemaOf(team.id));
    expect(row).toMatchObject({ projectId: project.id, source: "proxy", status: "ok" });
  });
});

describe("bad requests", () => {
  const post = (path: string, body: string, headers: Record<string, string> = {}) =>
    fetch(`${base}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}`, ...headers },
      body,
    });

  it("are 4xx with a code, and never reach the provider", async () => {
    const cases: Array<[string, string, number, string]> = [
      ["/v1/chat/completions", "{not json", 400, "invalid_json"],
      ["/v1/chat/completions", JSON.stringify({ model: "openai/fake-model" }), 400, "validation_failed"],
      [
        "/v1/chat/completions",
        JSON.stringify({ model: "openai/fake-model", messages: [] }),
        400,
        "validation_failed",
      ],
      [
        "/v1/chat/completions",
        JSON.stringify({ model: "openai/fake-model", messages: [{ role: "user", content: "x" }], n: 2 }),
        400,
        "validation_failed",
      ],
      [
        "/v1/chat/completions",
        JSON.stringify({ model: "openai/fake-model", messages: [{ role: "user", content: "x" }], bogus: 1 }),
        400,
        "validation_failed",
      ],
      [
        "/v1/chat/completions",
        JSON.stringify({ model: "openai/fake-model", messages: [{ role: "wizard", content: "x" }] }),
        400,
        "validation_failed",
      ],
      [
        "/v1/chat/completions",
        JSON.stringify({
          model: "openai/fake-model",
          messages: [{ role: "tool", tool_call_id: "nope", content: "x" }],
        }),
        400,
        "validation_failed",
      ],
      [
        "/v1/chat/completions",
        JSON.stringify({ model: "../../etc/passwd", messages: [{ role: "user", content: "x" }] }),
        404,
        "model_not_found",
      ],
      [
        "/v1/chat/completions",
        JSON.stringify({ model: "nowhere/model", messages: [{ role: "user", content: "x" }] }),
        404,
        "provider_not_found",
      ],
      [
        "/v1/chat/completions",
        JSON.stringify({
          model: "openai/fake-model",
          messages: [
            { role: "user", content: [{ type: "image_url", image_url: { url: "file:///etc/passwd" } }] },
          ],
        }),
        400,
        "validation_failed",
      ],
      [
        "/v1/messages",
        JSON.stringify({ model: "openai/fake-model", messages: [{ role: "user", content: "x" }] }),
        400,
        "validation_failed",
      ],
      [
        "/v1/messages",
        JSON.stringify({
          model: "openai/fake-model",
          max_tokens: 5,
          messages: [{ role: "user", content: [{ type: "tool_result", tool_use_id: "x", content: "y" }] }],
        }),
        400,
        "validation_failed",
      ],
      [
        "/v1/messages",
        JSON.stringify({
          model: "openai/fake-model",
          max_tokens: 5,
          messages: [{ role: "user", content: "x" }],
          tools: [{ type: "web_search_20250305", name: "web_search" }],
        }),
        400,
        "validation_failed",
      ],
      [
        "/v1/messages",
        JSON.stringify({ __proto__: { x: 1 }, model: "a/b", max_tokens: 1, messages: [] }),
        400,
        "validation_failed",
      ],
    ];
    for (const [path, body, status, code] of cases) {
      const res = await post(path, body);
      expect([path, body.slice(0, 80), res.status, ((await res.json()) as ErrorBody).error?.code]).toEqual([
        path,
        body.slice(0, 80),
        status,
        code,
      ]);
    }
    const poisoned = await post("/v1/messages", '{"__proto__":{"polluted":true},"model":"a/b"}');
    expect(poisoned.status).toBe(400);
    const header = await post("/v1/chat/completions", "{}", { "x-kiln-org": "../../x" });
    expect(header.status).toBe(400);
    expect(fake.requests).toHaveLength(0);
  });

  it("passes provider failures on with a code: 500 after retries is a 502, a 400 stays a 400", async () => {
    fake.enqueue({ repeat: { error: { status: 500, message: "upstream broke" } } });
    await expect(
      openai().chat.completions.create({
        model: "openai/fake-model",
        messages: [{ role: "user", content: "x" }],
      }),
    ).rejects.toMatchObject({ status: 502, error: { code: "provider_error" } });
    expect(await lastCall()).toMatchObject({ status: "error", errorCode: "provider_error", attempts: 4 });

    fake.reset();
    fake.enqueue({ error: { status: 400, message: "context too long" } });
    await expect(
      anthropic().messages.create({
        model: "openai/fake-model",
        max_tokens: 5,
        messages: [{ role: "user", content: "x" }],
      }),
    ).rejects.toMatchObject({ status: 400 });
    expect(await lastCall()).toMatchObject({ status: "error", errorCode: "provider_rejected", attempts: 1 });
  });
});

describe("streams that do not finish", () => {
  it("a stream cut by the provider ends in the format's error event and an error row", async () => {
    fake.enqueue({ cutAfterChunks: 3, reply: { text: "this answer will never be finished", chunkSize: 3 } });
    const stream = await openai().chat.completions.create({
      model: "openai/fake-model",
      messages: [{ role: "user", content: "go" }],
      stream: true,
    });
    let text = "";
    await expect(
      (async () => {
        for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
      })(),
    ).rejects.toThrow();
    expect(text.length).toBeGreaterThan(0);
    const row = await lastCall();
    expect(row).toMatchObject({ status: "error", stream: true, tokensEstimated: true });
    expect(row.outputTokens).toBeGreaterThan(0);
  });

  it("a caller that hangs up cancels the upstream call and is logged as cancelled", async () => {
    fake.enqueue({ hangAfterChunks: 2, reply: { text: "a long answer that stalls", chunkSize: 2 } });
    const controller = new AbortController();
    const stream = await openai().chat.completions.create(
      { model: "openai/fake-model", messages: [{ role: "user", content: "go" }], stream: true },
      { signal: controller.signal },
    );
    let chunks = 0;
    try {
      for await (const _ of stream) {
        if (++chunks === 2) controller.abort();
      }
    } catch {
      // The client may end the iteration quietly or throw; either way it stopped reading.
    }
    expect(chunks).toBe(2);
    await expect.poll(async () => (await lastCall()).status, { timeout: 5_000 }).toBe("cancelled");
    const row = await lastCall();
    expect(row.errorCode).toBe("cancelled");
    expect(row.ttftMs).not.toBeNull();
  });
});
