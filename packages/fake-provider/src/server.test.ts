import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type FakeProvider, type Reply, scenarioResponder, scenarios, startFakeProvider } from "./index.ts";

let fake: FakeProvider;
beforeAll(async () => {
  fake = await startFakeProvider({ models: ["m-1", "m-2"] });
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

const ANTHROPIC = { "anthropic-version": "2023-06-01" };

function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${fake.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

const chat = (content = "hi", extra: Record<string, unknown> = {}) =>
  post("/v1/chat/completions", { model: "m", messages: [{ role: "user", content }], ...extra });
const messages = (content = "hi", extra: Record<string, unknown> = {}) =>
  post(
    "/v1/messages",
    { model: "m", max_tokens: 10, messages: [{ role: "user", content }], ...extra },
    ANTHROPIC,
  );

async function text(res: Response) {
  return (await res.json()) as { choices: Array<{ message: { content: string } }> };
}

describe("script", () => {
  it("answers with a clear 500 in each API's format when the script ran out", async () => {
    const a = await chat();
    expect(a.status).toBe(500);
    expect(a.headers.get("x-should-retry")).toBe("false");
    expect(((await a.json()) as { error: { message: string } }).error.message).toMatch(/script ran out/);
    const b = await messages();
    expect(b.status).toBe(500);
    const body = (await b.json()) as { type: string; error: { type: string; message: string } };
    expect(body.type).toBe("error");
    expect(body.error).toMatchObject({ type: "api_error", message: expect.stringMatching(/script ran out/) });
  });

  it("replays in order, keeps a repeat at the head, and lets a responder take precedence", async () => {
    fake.enqueue({ text: "first" }, { repeat: { text: "again" } }, { text: "never reached" });
    const seen = [];
    for (let i = 0; i < 4; i++) seen.push((await text(await chat())).choices[0]!.message.content);
    expect(seen).toEqual(["first", "again", "again", "again"]);
    fake.setResponder((request, index) => ({ text: `responder ${index} ${request.api}` }));
    expect((await text(await chat())).choices[0]!.message.content).toBe("responder 4 openai");
    fake.setResponder(undefined);
    expect((await text(await chat())).choices[0]!.message.content).toBe("again");
  });

  it("reset empties queue, requests and responder, in place", async () => {
    const requests = fake.requests;
    fake.enqueue({ text: "x" });
    fake.setResponder(() => ({ text: "y" }));
    await chat();
    fake.reset();
    expect(requests).toHaveLength(0);
    expect(fake.requests).toBe(requests);
    expect((await chat()).status).toBe(500);
  });

  it("refuses a malformed reply when it is enqueued", () => {
    expect(() => fake.enqueue({ txt: "typo" } as unknown as Reply)).toThrow(/none of text, toolCalls/);
    expect(() => fake.enqueue({ toolCalls: [{ arguments: "{}" }] } as unknown as Reply)).toThrow(
      /need a name/,
    );
  });

  it("reports a responder that throws as a 500 naming the cause", async () => {
    fake.setResponder(() => {
      throw new Error("boom in test");
    });
    const res = await chat();
    expect(res.status).toBe(500);
    expect(await res.text()).toContain("boom in test");
  });

  it("steps through scenarioResponder, then says done", async () => {
    fake.setResponder(scenarioResponder([{ text: "one" }, { text: "two" }]));
    const seen = [];
    for (let i = 0; i < 3; i++) seen.push((await text(await chat())).choices[0]!.message.content);
    expect(seen).toEqual(["one", "two", "done"]);
  });

  it("echoes the last user message in both formats", async () => {
    fake.setResponder(scenarios.echo!());
    expect((await text(await chat("ping"))).choices[0]!.message.content).toBe("Echo: ping");
    const res = await messages("pong");
    expect(((await res.json()) as { content: Array<{ text: string }> }).content[0]!.text).toBe("Echo: pong");
  });
});

describe("requests and routes", () => {
  it("records path, api, headers and the parsed body of every request", async () => {
    fake.enqueue({ text: "a" }, { text: "b" });
    await post(
      "/v1/chat/completions",
      { model: "m", messages: [] },
      { authorization: "Bearer k1", "x-extra": "1" },
    );
    await post("/v1/messages", { model: "m", messages: [] }, { ...ANTHROPIC, "x-api-key": "k2" });
    await fetch(`${fake.url}/v1/models`);
    expect(fake.requests.map((r) => [r.api, r.method, r.path])).toEqual([
      ["openai", "POST", "/v1/chat/completions"],
      ["anthropic", "POST", "/v1/messages"],
      ["openai", "GET", "/v1/models"],
    ]);
    expect(fake.requests[0]!.headers).toMatchObject({ authorization: "Bearer k1", "x-extra": "1" });
    expect(fake.requests[1]!.headers["x-api-key"]).toBe("k2");
    expect(fake.requests[1]!.body).toEqual({ model: "m", messages: [] });
    expect(fake.requests[0]!.at).toBeGreaterThan(0);
  });

  it("serves the paths without /v1 too (base URL one level off)", async () => {
    fake.enqueue({ text: "a" }, { text: "b" });
    expect((await post("/chat/completions", { messages: [] })).status).toBe(200);
    expect((await post("/messages", { messages: [] }, ANTHROPIC)).status).toBe(200);
  });

  it("lists models in OpenAI's or Anthropic's shape by the anthropic-version header", async () => {
    const openai = await (await fetch(`${fake.url}/v1/models`)).json();
    expect(openai).toEqual({
      object: "list",
      data: [expect.objectContaining({ id: "m-1", object: "model" }), expect.objectContaining({ id: "m-2" })],
    });
    const anthropic = await (await fetch(`${fake.url}/v1/models`, { headers: ANTHROPIC })).json();
    expect(anthropic).toMatchObject({ has_more: false, first_id: "m-1", last_id: "m-2" });
    expect((anthropic as { data: unknown[] }).data[0]).toEqual({
      id: "m-1",
      type: "model",
      display_name: "m-1",
      created_at: expect.any(String),
    });
    expect((await fetch(`${fake.url}/v1/models/m-2`)).status).toBe(200);
    expect((await fetch(`${fake.url}/v1/models/nope`)).status).toBe(404);
  });

  it("answers garbage with 4xx in the API's format, without using up a scripted reply", async () => {
    fake.enqueue({ text: "kept" });
    const bad = await post("/v1/chat/completions", "{not json");
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { type: string } }).error.type).toBe("invalid_request_error");
    const noMessages = await post("/v1/messages", { model: "m" }, ANTHROPIC);
    expect(noMessages.status).toBe(400);
    expect(((await noMessages.json()) as { error: { type: string } }).error.type).toBe(
      "invalid_request_error",
    );
    expect((await post("/v1/nowhere", {})).status).toBe(404);
    expect((await post("/v1/responses", { messages: [] })).status).toBe(400);
    expect((await text(await chat())).choices[0]!.message.content).toBe("kept");
  });

  it("takes image parts as each API does and refuses malformed ones with its 400", async () => {
    const png =
      "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";
    fake.enqueue({ text: "seen" }, { text: "seen too" });
    const openAiImage = (url: string) => [
      { type: "text", text: "look" },
      { type: "image_url", image_url: { url } },
    ];
    const anthropicImage = (source: unknown) => [
      { type: "image", source },
      { type: "text", text: "look" },
    ];
    expect((await chat(openAiImage(`data:image/png;base64,${png}`) as never)).status).toBe(200);
    const good = { type: "base64", media_type: "image/png", data: png };
    expect((await messages(anthropicImage(good) as never)).status).toBe(200);
    // The request is recorded as received, image and all.
    expect(JSON.stringify(fake.requests[0]!.body)).toContain(png);
    expect(JSON.stringify(fake.requests[1]!.body)).toContain(png);
    for (const url of [
      "data:image/svg+xml;base64,PHN2Zy8+",
      "data:image/png;base64,not base64!",
      "file:///etc/passwd",
    ]) {
      const res = await chat(openAiImage(url) as never);
      expect(res.status, url).toBe(400);
      expect(((await res.json()) as { error: { type: string } }).error.type).toBe("invalid_request_error");
    }
    for (const source of [
      { ...good, media_type: "image/svg+xml" },
      { ...good, data: "%%%" },
      { type: "file", file_id: "x" },
      undefined,
    ]) {
      const res = await messages(anthropicImage(source) as never);
      expect(res.status, JSON.stringify(source)).toBe(400);
      expect(((await res.json()) as { error: { type: string } }).error.type).toBe("invalid_request_error");
    }
    expect(fake.requests).toHaveLength(9);
  });

  it("never reports zero usage", async () => {
    fake.enqueue({ text: "" }, { toolCalls: [{ name: "t", arguments: {} }] });
    const a = (await (await chat("")).json()) as {
      usage: { prompt_tokens: number; completion_tokens: number };
    };
    expect(a.usage.prompt_tokens).toBeGreaterThan(0);
    expect(a.usage.completion_tokens).toBeGreaterThan(0);
    const b = (await (await messages("")).json()) as {
      usage: { input_tokens: number; output_tokens: number };
    };
    expect(b.usage.input_tokens).toBeGreaterThan(0);
    expect(b.usage.output_tokens).toBeGreaterThan(0);
  });

  it("cuts a non-streamed body mid-way", async () => {
    fake.enqueue({ cutAfterChunks: 1, reply: { text: "a body that will be cut" } });
    const res = await chat();
    expect(res.status).toBe(200);
    await expect(res.text()).rejects.toThrow();
  });

  it("paces a stream with the default per-chunk delay and still delivers all of it", async () => {
    const own = await startFakeProvider({
      defaultChunkDelayMs: 1,
      replies: [{ text: "slow but whole", chunkSize: 2 }],
    });
    const res = await fetch(`${own.url}/v1/messages`, {
      method: "POST",
      headers: ANTHROPIC,
      body: JSON.stringify({ messages: [], stream: true }),
    });
    const deltas = [...(await res.text()).matchAll(/"text_delta","text":"([^"]*)"/g)].map((m) => m[1]);
    expect(deltas.join("")).toBe("slow but whole");
    await own.close();
  });

  it("closes even with a request hanging", async () => {
    const own = await startFakeProvider({ replies: [{ hang: true }] });
    const pending = fetch(`${own.url}/v1/chat/completions`, {
      method: "POST",
      body: JSON.stringify({ messages: [] }),
    }).catch((error: unknown) => error);
    while (own.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    await own.close();
    expect(await pending).toBeInstanceOf(Error);
  });

  it("sends the streamed OpenAI events in order, usage only when asked", async () => {
    fake.enqueue({ text: "abcdefghij", chunkSize: 4 }, { text: "abc" });
    const withUsage = await (
      await chat("hi", { stream: true, stream_options: { include_usage: true } })
    ).text();
    const events = withUsage.split("\n\n").filter(Boolean);
    expect(events.at(-1)).toBe("data: [DONE]");
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.slice("data: ".length)));
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? null)).toEqual([
      "",
      "abcd",
      "efgh",
      "ij",
      null,
      null,
    ]);
    expect(chunks.at(-1).usage.total_tokens).toBeGreaterThan(0);
    const without = await (await chat("hi", { stream: true })).text();
    expect(without).not.toContain('"usage"');
  });
});
