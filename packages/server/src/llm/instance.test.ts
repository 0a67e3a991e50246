import { describe, expect, it } from "vitest";
import { loadConfig } from "../config.ts";
import { ValidationError } from "../errors/errors.ts";
import { instanceSpecs } from "./gateway.ts";

describe("instance providers from the environment", () => {
  it("are configured by the usual variables, with each vendor's base URL convention", () => {
    const config = loadConfig({
      OPENAI_API_KEY: "sk-a",
      ANTHROPIC_BASE_URL: "https://anthropic-proxy.example.com",
      ANTHROPIC_API_KEY: "sk-ant",
      OLLAMA_BASE_URL: "http://gpu.internal:11434",
      OPENROUTER_API_KEY: "sk-or",
    }).llm;
    expect(instanceSpecs(config).map((s) => [s.name, s.baseUrl, s.apiKey, typeof s.fetch])).toEqual([
      ["openai", "https://api.openai.com/v1", "sk-a", "function"],
      ["anthropic", "https://anthropic-proxy.example.com/v1", "sk-ant", "function"],
      ["openrouter", "https://openrouter.ai/api/v1", "sk-or", "function"],
      ["ollama", "http://gpu.internal:11434/api", undefined, "function"],
    ]);
  });

  it("are absent when nothing is set; empty variables count as unset", () => {
    expect(instanceSpecs(loadConfig({}).llm)).toEqual([]);
    expect(instanceSpecs(loadConfig({ OPENAI_API_KEY: "", OLLAMA_BASE_URL: "" }).llm)).toEqual([]);
  });

  it("refuse a KILN_MODEL that is not a model ref, and limits out of range", () => {
    expect(loadConfig({ KILN_MODEL: "openai/gpt-4.1-mini" }).llm.defaultModel).toBe("openai/gpt-4.1-mini");
    for (const env of [
      { KILN_MODEL: "gpt-4.1-mini" },
      { KILN_LLM_RATE_LIMIT_PER_MINUTE: "0" },
      { KILN_LLM_MAX_RETRIES: "99" },
      { OPENAI_BASE_URL: "not a url" },
    ]) {
      expect(() => loadConfig(env), JSON.stringify(env)).toThrow(ValidationError);
    }
    expect(loadConfig({}).llm).toMatchObject({
      rateLimitPerMinute: 120,
      maxRetries: 3,
    });
  });
});
