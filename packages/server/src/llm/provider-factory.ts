import { createAnthropic } from "@ai-sdk/anthropic";
import { createOpenAI } from "@ai-sdk/openai";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import type { LanguageModelV4 } from "@ai-sdk/provider";
import type { LlmConfiguredModel, LlmProviderKind, LlmSource } from "@kiln/protocol";
import { createOllama } from "ollama-ai-provider-v2";
import { z } from "zod";

/** Everything needed to talk to one provider, resolved (keys decrypted) for one call or listing. */
export interface ProviderSpec {
  name: string;
  kind: LlmProviderKind;
  source: LlmSource;
  /** Normalised API root, e.g. `https://api.openai.com/v1`. */
  baseUrl: string;
  apiKey: string | undefined;
  models: LlmConfiguredModel[];
  /** Every request to the provider goes through this: the egress address policy's fetch (egress.ts). */
  fetch: typeof fetch;
  /** Changes whenever the settings above do; keys caches of the provider's model list. */
  cacheKey: string;
  /** Set when the stored key cannot be opened (the instance's secret key changed, or tampering). */
  keyError?: string;
}

export const DEFAULT_BASE_URL: Partial<Record<LlmProviderKind, string>> = {
  openai: "https://api.openai.com/v1",
  anthropic: "https://api.anthropic.com/v1",
  openrouter: "https://openrouter.ai/api/v1",
};

// What each kind's API root ends in when someone gives only the host, as the vendors' own SDKs and
// docs spell their base URLs (ANTHROPIC_BASE_URL and OLLAMA_BASE_URL usually have no path).
const ROOT_PATH: Record<LlmProviderKind, string> = {
  openai: "/v1",
  anthropic: "/v1",
  openrouter: "/api/v1",
  ollama: "/api",
  "openai-compatible": "/v1",
};

/** Parses and normalises a base URL; throws a readable Error for anything but plain http(s). */
export function normalizeBaseUrl(kind: LlmProviderKind, raw: string): string {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new Error(`"${raw.slice(0, 100)}" is not a URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new Error("base URL must be http or https");
  if (url.username || url.password) throw new Error("base URL must not carry credentials; use apiKey");
  if (url.search || url.hash) throw new Error("base URL must not have a query or fragment");
  const path = url.pathname.replace(/\/+$/, "");
  return `${url.origin}${path === "" ? ROOT_PATH[kind] : path}`;
}

/** The AI SDK model for one model id of a provider. No retries or logging here: the gateway adds them. */
export function createModel(spec: ProviderSpec, modelId: string): LanguageModelV4 {
  const common = { baseURL: spec.baseUrl, fetch: spec.fetch };
  // The SDKs fall back to OPENAI_API_KEY & co. from process.env when no key is given; an org provider
  // must never borrow the instance's key that way, so a placeholder is passed instead.
  const apiKey = spec.apiKey ?? "no-key";
  switch (spec.kind) {
    case "openai":
      // Chat completions rather than the Responses API: what every OpenAI-compatible server speaks too.
      return createOpenAI({ ...common, apiKey }).chat(modelId);
    case "anthropic":
      return createAnthropic({ ...common, apiKey }).languageModel(modelId);
    case "ollama":
      return createOllama({
        ...common,
        ...(spec.apiKey ? { headers: { authorization: `Bearer ${spec.apiKey}` } } : {}),
      }).chat(modelId);
    case "openrouter":
    case "openai-compatible":
      return createOpenAICompatible({
        ...common,
        name: spec.name,
        ...(spec.apiKey ? { apiKey: spec.apiKey } : {}),
        includeUsage: true,
      }).chatModel(modelId);
  }
}

export interface ListedModel {
  id: string;
  contextWindow?: number;
}

const LIST_TIMEOUT_MS = 3_000;
const MAX_LIST_BYTES = 8 * 1024 * 1024;

const OpenAiModels = z.object({
  data: z.array(
    z.looseObject({
      id: z.string().min(1).max(300),
      // OpenRouter says context_length; vLLM max_model_len.
      context_length: z.number().int().positive().nullish(),
      max_model_len: z.number().int().positive().nullish(),
    }),
  ),
});
const OllamaTags = z.object({ models: z.array(z.looseObject({ name: z.string().min(1).max(300) })) });

/** Asks the provider which models it serves. Throws on any failure; the caller caches either outcome. */
export async function fetchModelList(spec: ProviderSpec, signal?: AbortSignal): Promise<ListedModel[]> {
  const headers: Record<string, string> = { accept: "application/json" };
  let url: string;
  if (spec.kind === "anthropic") {
    url = `${spec.baseUrl}/models?limit=1000`;
    headers["anthropic-version"] = "2023-06-01";
    if (spec.apiKey) headers["x-api-key"] = spec.apiKey;
  } else if (spec.kind === "ollama") {
    url = `${spec.baseUrl}/tags`;
    if (spec.apiKey) headers.authorization = `Bearer ${spec.apiKey}`;
  } else {
    url = `${spec.baseUrl}/models`;
    if (spec.apiKey) headers.authorization = `Bearer ${spec.apiKey}`;
  }
  const timeout = AbortSignal.timeout(LIST_TIMEOUT_MS);
  const res = await spec.fetch(url, {
    headers,
    signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
  });
  if (!res.ok) {
    await res.body?.cancel();
    throw new Error(`GET ${new URL(url).pathname} answered ${res.status}`);
  }
  const text = await readCapped(res, MAX_LIST_BYTES);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error("the model list is not JSON");
  }
  if (spec.kind === "ollama") {
    const parsed = OllamaTags.safeParse(json);
    if (!parsed.success) throw new Error("unexpected model list format");
    return parsed.data.models.map((m) => ({ id: m.name }));
  }
  const parsed = OpenAiModels.safeParse(json);
  if (!parsed.success) throw new Error("unexpected model list format");
  return parsed.data.data
    .filter((m) => spec.kind !== "openai" || isOpenAiChatModel(m.id))
    .map((m) => {
      const contextWindow = m.context_length ?? m.max_model_len ?? undefined;
      return contextWindow ? { id: m.id, contextWindow } : { id: m.id };
    });
}

// OpenAI's /models lists every model of the account: embeddings, speech, images, moderation. Only chat
// models can be called through chat completions; other servers of kind `openai` (proxies, the fake
// provider) list only what they serve, so ids outside OpenAI's own families pass.
const OPENAI_NON_CHAT =
  /(embedding|whisper|tts|transcribe|dall-e|image|moderation|realtime|audio|search|davinci|babbage|computer-use|sora)/;

export function isOpenAiChatModel(id: string): boolean {
  return !OPENAI_NON_CHAT.test(id);
}

async function readCapped(res: Response, max: number): Promise<string> {
  if (!res.body) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    // Leaving the loop by throwing cancels the body.
    if (size > max) throw new Error("the model list is too large");
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}
