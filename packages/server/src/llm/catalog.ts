import type { LlmProviderKind } from "@kiln/protocol";

/**
 * What Kiln knows about common models without asking anyone: context windows and list prices in USD per
 * million tokens. Prices are estimates for the usage report (an org can override them); a provider's
 * own model list wins for context windows when it reports them.
 */
export interface KnownModel {
  contextWindow: number;
  /** false: the model reads text only (ADR 0041); unset: it accepts images. */
  images?: boolean;
  price?: { input: number; output: number; cachedInput: number };
}

const p = (input: number, cachedInput: number, output: number) => ({ input, output, cachedInput });

export const KNOWN_MODELS: Record<string, KnownModel> = {
  "gpt-5": { contextWindow: 400_000, price: p(1.25, 0.125, 10) },
  "gpt-5-mini": { contextWindow: 400_000, price: p(0.25, 0.025, 2) },
  "gpt-5-nano": { contextWindow: 400_000, price: p(0.05, 0.005, 0.4) },
  "gpt-4.1": { contextWindow: 1_047_576, price: p(2, 0.5, 8) },
  "gpt-4.1-mini": { contextWindow: 1_047_576, price: p(0.4, 0.1, 1.6) },
  "gpt-4.1-nano": { contextWindow: 1_047_576, price: p(0.1, 0.025, 0.4) },
  "gpt-4o": { contextWindow: 128_000, price: p(2.5, 1.25, 10) },
  "gpt-4o-mini": { contextWindow: 128_000, price: p(0.15, 0.075, 0.6) },
  o3: { contextWindow: 200_000, price: p(2, 0.5, 8) },
  "o3-mini": { contextWindow: 200_000, images: false, price: p(1.1, 0.55, 4.4) },
  "o4-mini": { contextWindow: 200_000, price: p(1.1, 0.275, 4.4) },
  "claude-opus-4-5": { contextWindow: 200_000, price: p(5, 0.5, 25) },
  "claude-opus-4-1": { contextWindow: 200_000, price: p(15, 1.5, 75) },
  "claude-opus-4": { contextWindow: 200_000, price: p(15, 1.5, 75) },
  "claude-sonnet-4-5": { contextWindow: 200_000, price: p(3, 0.3, 15) },
  "claude-sonnet-4": { contextWindow: 200_000, price: p(3, 0.3, 15) },
  "claude-3-7-sonnet": { contextWindow: 200_000, price: p(3, 0.3, 15) },
  "claude-haiku-4-5": { contextWindow: 200_000, price: p(1, 0.1, 5) },
  "claude-3-5-haiku": { contextWindow: 200_000, price: p(0.8, 0.08, 4) },
};

/** A model with no entry gets this much; Ollama's own default context is small unless configured. */
export function defaultContextWindow(kind: LlmProviderKind): number {
  return kind === "ollama" ? 8_192 : 128_000;
}

// Dated snapshots and aliases of a known model: `gpt-4.1-mini-2025-04-14`, `claude-sonnet-4-5-20250929`,
// `claude-3-5-haiku-latest`. Anything else (`o3-pro`) is a different model, not a variant.
const VARIANT_SUFFIX = /^(-\d{4}-\d{2}-\d{2}|-\d{8}|-latest)?$/;

/** The known model a model id is, or is a snapshot of. OpenRouter-style `vendor/model` ids use the last part. */
export function knownModel(modelId: string): { id: string; model: KnownModel } | undefined {
  const bare = modelId.slice(modelId.lastIndexOf("/") + 1);
  let best: string | undefined;
  for (const id of Object.keys(KNOWN_MODELS)) {
    if (
      bare.startsWith(id) &&
      VARIANT_SUFFIX.test(bare.slice(id.length)) &&
      id.length > (best?.length ?? 0)
    ) {
      best = id;
    }
  }
  return best === undefined ? undefined : { id: best, model: KNOWN_MODELS[best]! };
}

/**
 * Whether a model accepts images (ADR 0041): what the provider's configuration says, else what Kiln knows of
 * it, else yes for the hosted APIs and no for Ollama (most local models read text only).
 */
export function acceptsImages(kind: LlmProviderKind, modelId: string, configured?: boolean): boolean {
  return configured ?? knownModel(modelId)?.model.images ?? kind !== "ollama";
}

/** The model Kiln picks when a provider is configured from the environment and KILN_MODEL is not set. */
export const FALLBACK_MODEL: Partial<Record<LlmProviderKind, string>> = {
  openai: "gpt-4.1-mini",
  anthropic: "claude-sonnet-4-5",
};
