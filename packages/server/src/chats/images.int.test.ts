import { type FakeProvider, startFakeProvider } from "@kiln/fake-provider";
import { MAX_CHAT_IMAGE_BYTES } from "@kiln/protocol";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { expectError } from "../testing/api.ts";
import { type SignedUp, startTestKiln, type TestKiln, uniqueSlug } from "../testing/harness.ts";

// A 1×1 PNG; its bytes are what the model must be sent, base64 unchanged.
const PNG_BASE64 =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";
const PNG = Buffer.from(PNG_BASE64, "base64");

let fake: FakeProvider;
let kiln: TestKiln;
let owner: SignedUp;
let org: string;
let project: string;

beforeAll(async () => {
  fake = await startFakeProvider({ models: ["fake-model", "claude-sonnet-4-5", "tiny"] });
  kiln = await startTestKiln({
    env: {
      OPENAI_BASE_URL: `${fake.url}/v1`,
      OPENAI_API_KEY: "fake-key",
      KILN_MODEL: "openai/fake-model",
      KILN_LLM_RETRY_BASE_MS: "10",
      // The org providers below point at the fake provider on loopback: the operator exempts it.
      KILN_EGRESS_ALLOW: fake.url,
    },
  });
  owner = await kiln.signup();
  org = uniqueSlug("org");
  await owner.client.post("/api/orgs", { name: "Images", slug: org });
  const res = await owner.client.post(`/api/orgs/${org}/projects`, { name: "Pics", template: "static" });
  expect(res.statusCode).toBe(201);
  project = res.json().slug;
}, 120_000);

afterAll(async () => {
  await kiln?.stop();
  await fake?.close();
});

beforeEach(() => fake.reset());

const chatsUrl = () => `/api/orgs/${org}/projects/${project}/chats`;

async function newChat(body: Record<string, unknown> = {}): Promise<string> {
  const res = await owner.client.post(chatsUrl(), body);
  expect(res.statusCode).toBe(201);
  return res.json().id;
}

function upload(chat: string, bytes: Buffer | string, type = "application/octet-stream", who = owner) {
  return who.client.request("POST", `${chatsUrl()}/${chat}/images`, bytes, {
    headers: { "content-type": type },
  });
}

async function uploaded(chat: string): Promise<string> {
  const res = await upload(chat, PNG);
  expect(res.statusCode, res.body).toBe(201);
  expect(res.json()).toMatchObject({ chatId: chat, mediaType: "image/png", size: PNG.length });
  return res.json().id;
}

async function untilFinished(chat: string) {
  const end = Date.now() + 60_000;
  while (Date.now() < end) {
    const res = await owner.client.get(`${chatsUrl()}/${chat}`);
    const last = res.json().messages.at(-1);
    if (last.status !== "running") return res.json().messages;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("turn did not finish");
}

describe("uploading an image to a chat", () => {
  it("refuses what is not a PNG, JPEG, GIF or WebP by its bytes, whatever the client says", async () => {
    const chat = await newChat();
    expectError(await upload(chat, "just some text, not an image"), 415, "image_invalid");
    const svg = '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>';
    expectError(await upload(chat, svg), 415, "image_invalid");
    // HTML that says it is a PNG: the magic bytes decide.
    expectError(await upload(chat, "<html><script>alert(1)</script>"), 415, "image_invalid");
    // A PNG signature cut short is not one.
    expectError(await upload(chat, PNG.subarray(0, 4)), 415, "image_invalid");
    expectError(await upload(chat, Buffer.alloc(0)), 415, "image_invalid");
    // The body must be sent as raw bytes: another declared type is refused before it is read.
    const asSvg = await upload(chat, svg, "image/svg+xml");
    expect(asSvg.statusCode).toBe(415);
  });

  it("refuses an image over the limit", async () => {
    const chat = await newChat();
    const big = Buffer.concat([PNG, Buffer.alloc(MAX_CHAT_IMAGE_BYTES)]);
    expectError(await upload(chat, big), 413, "payload_too_large");
  });

  it("a chat of another org or project, or no chat, is not found", async () => {
    const stranger = await kiln.signup();
    const theirOrg = uniqueSlug("org");
    await stranger.client.post("/api/orgs", { name: "Theirs", slug: theirOrg });
    const made = await stranger.client.post(`/api/orgs/${theirOrg}/projects`, {
      name: "Theirs",
      template: "static",
    });
    const theirChat = (
      await stranger.client.post(`/api/orgs/${theirOrg}/projects/${made.json().slug}/chats`, {})
    ).json().id as string;
    // Their chat id under our project: not found, nothing stored.
    expectError(await upload(theirChat, PNG), 404, "chat_not_found");
    expectError(await upload("00000000-0000-0000-0000-000000000000", PNG), 404, "chat_not_found");
    expectError(await upload("not-an-id", PNG), 400, "validation_failed");
    // Our chat's image is not theirs to read, nor to send in their chat.
    const chat = await newChat();
    const image = await uploaded(chat);
    const theirUrl = `/api/orgs/${theirOrg}/projects/${made.json().slug}/chats/${theirChat}`;
    expectError(await stranger.client.get(`${theirUrl}/images/${image}`), 404, "image_not_found");
    expectError(
      await stranger.client.post(`${theirUrl}/messages`, { content: "look", images: [image] }),
      404,
      "image_not_found",
    );
    expect(fake.requests).toHaveLength(0);
    // Nor another chat's of the same project.
    const other = await newChat();
    expectError(
      await owner.client.post(`${chatsUrl()}/${other}/messages`, { content: "look", images: [image] }),
      404,
      "image_not_found",
    );
    expectError(await owner.client.get(`${chatsUrl()}/${other}/images/${image}`), 404, "image_not_found");
  });

  it("is served back as the type its bytes are, with headers that keep a browser from running it", async () => {
    const chat = await newChat();
    const image = await uploaded(chat);
    const res = await owner.client.get(`${chatsUrl()}/${chat}/images/${image}`);
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toBe("image/png");
    expect(res.headers["x-content-type-options"]).toBe("nosniff");
    expect(res.headers["content-security-policy"]).toContain("default-src 'none'");
    expect(res.rawPayload.equals(PNG)).toBe(true);
  });

  it("more than four images in a message is refused", async () => {
    const chat = await newChat();
    const image = await uploaded(chat);
    const res = await owner.client.post(`${chatsUrl()}/${chat}/messages`, {
      content: "look",
      images: [image, image, image, image, image],
    });
    expectError(res, 400, "validation_failed");
  });
});

describe("a message with an image", () => {
  it("is stored with an image part and sent to an OpenAI model as an image_url data URL", async () => {
    const chat = await newChat();
    const image = await uploaded(chat);
    fake.enqueue({ text: "A single pixel." });
    const sent = await owner.client.post(`${chatsUrl()}/${chat}/messages`, {
      content: "What is in this picture?",
      images: [image],
    });
    expect(sent.statusCode, sent.body).toBe(202);
    expect(sent.json().userMessage.parts).toEqual([
      { type: "text", text: "What is in this picture?" },
      { type: "image", imageId: image, mediaType: "image/png" },
    ]);
    const messages = await untilFinished(chat);
    expect(messages.at(-1).status).toBe("completed");
    const body = fake.requests[0]!.body as { messages: { role: string; content: unknown }[] };
    expect(fake.requests[0]!.path).toBe("/v1/chat/completions");
    expect(body.messages.at(-1)).toEqual({
      role: "user",
      content: [
        { type: "text", text: "What is in this picture?" },
        { type: "image_url", image_url: { url: `data:image/png;base64,${PNG_BASE64}` } },
      ],
    });

    // The next turn sends the earlier image again (it is part of the history).
    fake.enqueue({ text: "Still one pixel." });
    const next = await owner.client.post(`${chatsUrl()}/${chat}/messages`, { content: "And now?" });
    expect(next.statusCode).toBe(202);
    await untilFinished(chat);
    const again = fake.requests[1]!.body as { messages: { role: string; content: unknown }[] };
    expect(JSON.stringify(again.messages)).toContain(PNG_BASE64);
  });

  it("reaches an Anthropic-configured org provider as a base64 image block", async () => {
    const created = await owner.client.post(`/api/orgs/${org}/llm/providers`, {
      name: "claude",
      kind: "anthropic",
      baseUrl: `${fake.url}/v1`,
      apiKey: "sk-ant-fake-key-123456",
    });
    expect(created.statusCode, created.body).toBe(201);
    const chat = await newChat({ model: "claude/claude-sonnet-4-5" });
    const image = await uploaded(chat);
    fake.enqueue({ text: "A pixel." });
    const sent = await owner.client.post(`${chatsUrl()}/${chat}/messages`, {
      content: "Describe it",
      images: [image],
    });
    expect(sent.statusCode, sent.body).toBe(202);
    expect((await untilFinished(chat)).at(-1).status).toBe("completed");
    expect(fake.requests[0]!.path).toBe("/v1/messages");
    const body = fake.requests[0]!.body as { messages: { role: string; content: unknown[] }[] };
    expect(body.messages.at(-1)!.content).toEqual([
      { type: "text", text: "Describe it" },
      { type: "image", source: { type: "base64", media_type: "image/png", data: PNG_BASE64 } },
    ]);
  });

  it("to a text-only model is refused with model_no_images before anything is stored or sent", async () => {
    const created = await owner.client.post(`/api/orgs/${org}/llm/providers`, {
      name: "local",
      kind: "openai-compatible",
      baseUrl: `${fake.url}/v1`,
      models: [{ id: "tiny", images: false }],
    });
    expect(created.statusCode, created.body).toBe(201);
    const chat = await newChat({ model: "local/tiny" });
    const image = await uploaded(chat);
    const res = await owner.client.post(`${chatsUrl()}/${chat}/messages`, {
      content: "see",
      images: [image],
    });
    expectError(res, 422, "model_no_images");
    expect(fake.requests).toHaveLength(0);
    const stored = await owner.client.get(`${chatsUrl()}/${chat}`);
    expect(stored.json().messages).toEqual([]);
    // Through the /v1 proxy too, in both formats: refused before any call.
    const token = (await owner.client.post("/api/auth/tokens", { name: "proxy" })).json().token as string;
    const proxy = (url: string, content: unknown) =>
      kiln.app.inject({
        method: "POST",
        url,
        headers: { authorization: `Bearer ${token}`, "x-kiln-org": org, "content-type": "application/json" },
        payload: { model: "local/tiny", max_tokens: 10, messages: [{ role: "user", content }] },
      });
    expectError(
      await proxy("/v1/chat/completions", [
        { type: "text", text: "see" },
        { type: "image_url", image_url: { url: `data:image/png;base64,${PNG_BASE64}` } },
      ]),
      422,
      "model_no_images",
    );
    expectError(
      await proxy("/v1/messages", [
        { type: "image", source: { type: "base64", media_type: "image/png", data: PNG_BASE64 } },
        { type: "text", text: "see" },
      ]),
      422,
      "model_no_images",
    );
    expect(fake.requests).toHaveLength(0);
    // Words alone still go to it.
    fake.enqueue({ text: "Hi." });
    const words = await owner.client.post(`${chatsUrl()}/${chat}/messages`, { content: "hello" });
    expect(words.statusCode).toBe(202);
    await untilFinished(chat);
    expect(fake.requests).toHaveLength(1);
  });
});
