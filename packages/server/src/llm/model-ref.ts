import { LLM_MODEL_REF_PATTERN } from "@kiln/protocol";
import { ModelNotFoundError } from "./errors.ts";

export interface ModelRef {
  provider: string;
  modelId: string;
}

/** `<provider>/<model-id>`; the model id may itself contain `/` (OpenRouter: `openrouter/meta-llama/x`). */
export function parseModelRef(ref: string): ModelRef {
  if (!LLM_MODEL_REF_PATTERN.test(ref)) {
    throw new ModelNotFoundError(
      `"${ref.slice(0, 100)}" is not a model ref; use <provider>/<model-id>, e.g. openai/gpt-4.1-mini`,
    );
  }
  const slash = ref.indexOf("/");
  return { provider: ref.slice(0, slash), modelId: ref.slice(slash + 1) };
}

export function formatModelRef(provider: string, modelId: string): string {
  return `${provider}/${modelId}`;
}
