import type { LanguageModelV4Prompt, LanguageModelV4Usage } from "@ai-sdk/provider";

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

/** Characters of a prompt's text, tool calls and results (≈4 a token). */
export function promptChars(prompt: LanguageModelV4Prompt): number {
  let n = 0;
  for (const message of prompt) {
    if (typeof message.content === "string") {
      n += message.content.length;
      continue;
    }
    for (const part of message.content) {
      if (part.type === "text" || part.type === "reasoning") n += part.text.length;
      else if (part.type === "tool-call") n += JSON.stringify(part.input ?? "").length;
      else if (part.type === "tool-result") n += JSON.stringify(part.output).length;
    }
  }
  return n;
}
