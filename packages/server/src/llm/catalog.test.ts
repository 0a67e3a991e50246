import { describe, expect, it } from "vitest";
import { knownModel } from "./catalog.ts";
import { parseModelRef } from "./model-ref.ts";
import { costOf } from "./prices.ts";
import { isOpenAiChatModel, normalizeBaseUrl } from "./provider-factory.ts";
import { keyHint } from "./providers.ts";

describe("knownModel", () => {
  it("matches a model, its dated snapshots and aliases, and vendor-prefixed ids", () => {
    expect(knownModel("gpt-4.1-mini")?.id).toBe("gpt-4.1-mini");
    expect(knownModel("gpt-4.1-mini-2025-04-14")?.id).toBe("gpt-4.1-mini");
    expect(knownModel("claude-sonnet-4-5-20250929")?.id).toBe("claude-sonnet-4-5");
    expect(knownModel("claude-3-5-haiku-latest")?.id).toBe("claude-3-5-haiku");
    expect(knownModel("openai/gpt-4o-mini")?.id).toBe("gpt-4o-mini");
  });

  it("does not take a different model for a variant of a shorter name", () => {
    expect(knownModel("gpt-4o-mini")?.id).toBe("gpt-4o-mini");
    expect(knownModel("gpt-4o")?.id).toBe("gpt-4o");
    expect(knownModel("o3-pro")).toBeUndefined();
    expect(knownModel("gpt-4.1-turbo")).toBeUndefined();
    expect(knownModel("llama3.1:8b")).toBeUndefined();
  });
});

describe("costOf", () => {
  it("bills cached input at the cached rate and never more cached than input", () => {
    const price = { input: 2, output: 8, cachedInput: 0.5 };
    expect(costOf(price, { inputTokens: 1_000_000, outputTokens: 0, cachedInputTokens: 0 })).toBe(2);
    expect(
      costOf(price, { inputTokens: 1_000_000, outputTokens: 1_000_000, cachedInputTokens: 500_000 }),
    ).toBe(1 + 0.25 + 8);
    expect(costOf(price, { inputTokens: 10, outputTokens: 0, cachedInputTokens: 50 })).toBeCloseTo(5e-6, 12);
  });
});

describe("model refs", () => {
  it("split at the first slash; the model id may hold more", () => {
    expect(parseModelRef("openrouter/meta-llama/llama-3.1-70b")).toEqual({
      provider: "openrouter",
      modelId: "meta-llama/llama-3.1-70b",
    });
    expect(parseModelRef("ollama/llama3.1:8b")).toEqual({ provider: "ollama", modelId: "llama3.1:8b" });
    for (const bad of ["", "x", "/x", "x/", "X/y", "a b/c", "a/b c", "a/\u0000", `a/${"b".repeat(201)}`]) {
      expect(() => parseModelRef(bad), bad).toThrow(/not a model ref/);
    }
  });
});

describe("normalizeBaseUrl", () => {
  it("adds each kind's API root to a bare host and drops trailing slashes", () => {
    expect(normalizeBaseUrl("anthropic", "https://api.anthropic.com")).toBe("https://api.anthropic.com/v1");
    expect(normalizeBaseUrl("ollama", "http://gpu:11434/")).toBe("http://gpu:11434/api");
    expect(normalizeBaseUrl("openai-compatible", "http://vllm:8000")).toBe("http://vllm:8000/v1");
    expect(normalizeBaseUrl("openai", "https://proxy.example.com/openai/v1/")).toBe(
      "https://proxy.example.com/openai/v1",
    );
  });

  it("refuses what is not a plain http(s) API root", () => {
    for (const bad of [
      "nope",
      "file:///etc/passwd",
      "https://u:p@x.com",
      "https://x.com/v1?key=1",
      "javascript:1",
    ]) {
      expect(() => normalizeBaseUrl("openai", bad), bad).toThrow();
    }
  });
});

describe("keyHint", () => {
  it("shows the ends of long keys and almost nothing of short ones", () => {
    expect(keyHint("sk-proj-abcdefghijklmnop1234")).toBe("sk-…1234");
    expect(keyHint("shortkey9")).toBe("…y9");
    expect(keyHint("tiny")).toBe("…");
  });
});

describe("isOpenAiChatModel", () => {
  it("keeps chat models out of OpenAI's full list and drops the rest", () => {
    const listed = [
      "gpt-4.1-mini",
      "o4-mini",
      "text-embedding-3-small",
      "gpt-4o-mini-tts",
      "dall-e-3",
      "whisper-1",
      "omni-moderation-latest",
      "gpt-4o-realtime-preview",
      "fake-model",
    ];
    expect(listed.filter(isOpenAiChatModel)).toEqual(["gpt-4.1-mini", "o4-mini", "fake-model"]);
  });
});
