import type { LanguageModelV4Usage } from "@ai-sdk/provider";

/** The AI SDK's usage report, flattened; `input` includes cache reads and writes. */
export interface Tokens {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
}

export function tokensOf(usage: LanguageModelV4Usage | undefined): Tokens {
  const i = usage?.inputTokens;
  const cacheRead = i?.cacheRead ?? 0;
  const cacheWrite = i?.cacheWrite ?? 0;
  return {
    input: i?.total ?? (i?.noCache ?? 0) + cacheRead + cacheWrite,
    output: usage?.outputTokens.total ?? 0,
    cacheRead,
    cacheWrite,
  };
}
