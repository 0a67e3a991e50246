import type { Usage } from "@kiln/protocol";
import { type LanguageModel, type ModelMessage, streamText } from "ai";
import { compactionMessage } from "./history.ts";
import { describeModelError, toUsage } from "./model-step.ts";
import { truncateMiddle } from "./text.ts";
import { type ToolDefinition, toolInputJsonSchema } from "./tool.ts";

/** Characters per token, roughly, for English and code; close enough to decide when to compact. */
const CHARS_PER_TOKEN = 4;

export function estimateTokens(value: unknown): number {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return Math.ceil((text?.length ?? 0) / CHARS_PER_TOKEN);
}

/** What the model reads of a tool (name, description, input schema), in estimated tokens; once per tool. */
export function toolTokens(tool: ToolDefinition): number {
  let n = toolTokenCache.get(tool);
  if (n === undefined) {
    n = estimateTokens([tool.name, tool.description, toolInputJsonSchema(tool)]);
    toolTokenCache.set(tool, n);
  }
  return n;
}

const toolTokenCache = new WeakMap<ToolDefinition, number>();

const SUMMARY_INSTRUCTIONS = `You compress a coding agent's conversation so the agent can carry on with less context.
Write a concise but complete summary in Markdown with these sections:
## Task — what the user asked for, including their most recent request word for word.
## Done so far — files created or changed (paths) and what changed, commands run and their outcome.
## Current state — what works, what is broken, errors still open.
## Next steps — what remains to do.
Keep file paths, names, versions and error messages exact. Do not invent anything.`;

export interface CompactionResult {
  messages: ModelMessage[];
  summary: string;
  removedMessages: number;
  usage: Usage;
}

/**
 * Replaces older messages with a summary made by one model call. The summary covers the whole
 * conversation (the stored chat keeps only the summary and what follows it); the most recent turns also
 * stay verbatim in the in-run context, because the agent needs their exact text to continue.
 */
export async function compactMessages(options: {
  model: LanguageModel;
  messages: ModelMessage[];
  /** Tokens the kept recent messages may take. */
  keepTokens: number;
  maxRetries: number;
  signal: AbortSignal;
}): Promise<CompactionResult | { failed: string } | undefined> {
  const { messages } = options;
  const keepFrom = chooseKeptTail(messages, options.keepTokens);
  if (keepFrom === undefined) return undefined;

  const transcript = truncateMiddle(
    renderTranscript(messages),
    options.keepTokens * CHARS_PER_TOKEN * 2,
  ).text;
  let summary = "";
  let usage = toUsage(undefined);
  let failure: unknown;
  try {
    const result = streamText({
      model: options.model,
      instructions: SUMMARY_INSTRUCTIONS,
      messages: [{ role: "user", content: `Summarise this conversation:\n\n${transcript}` }],
      maxRetries: options.maxRetries,
      abortSignal: options.signal,
      onError: () => {},
    });
    for await (const part of result.fullStream) {
      if (part.type === "text-delta") summary += part.text;
      else if (part.type === "finish-step") usage = toUsage(part.usage);
      else if (part.type === "error") failure ??= part.error;
    }
  } catch (err) {
    failure ??= err;
  }
  if (options.signal.aborted) return undefined;
  if (failure !== undefined) return { failed: describeModelError(failure) };
  summary = summary.trim();
  if (!summary) return { failed: "the model returned an empty summary" };

  const lastUser = lastUserText(messages.slice(0, keepFrom));
  if (lastUser && !summary.includes(lastUser)) {
    summary += `\n\n## Latest user request (verbatim)\n${truncateMiddle(lastUser, 4000).text}`;
  }
  const kept = messages.slice(keepFrom);
  const head: ModelMessage = { role: "user", content: compactionMessage(summary) };
  const first = kept[0];
  const merged =
    first?.role === "user" && typeof first.content === "string"
      ? [{ role: "user" as const, content: `${head.content}\n\n${first.content}` }, ...kept.slice(1)]
      : [head, ...kept];
  return { messages: merged, summary, removedMessages: keepFrom, usage };
}

/**
 * Where the verbatim tail starts: the earliest message that is not a tool result (a result must follow its
 * call) such that the tail fits `keepTokens`; at least the last step is kept even when it alone is larger.
 */
export function chooseKeptTail(messages: ModelMessage[], keepTokens: number): number | undefined {
  let size = 0;
  let best: number | undefined;
  let latest: number | undefined;
  for (let i = messages.length - 1; i >= 1; i--) {
    size += estimateTokens(messages[i]);
    if (messages[i]!.role === "tool") continue;
    latest ??= i;
    if (size <= keepTokens) best = i;
    else break;
  }
  return best ?? latest;
}

function lastUserText(messages: ModelMessage[]): string | undefined {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i]!;
    if (m.role !== "user") continue;
    const text =
      typeof m.content === "string"
        ? m.content
        : m.content.map((p) => (p.type === "text" ? p.text : "")).join("");
    if (text.trim()) return text.trim();
  }
  return undefined;
}

function renderTranscript(messages: ModelMessage[]): string {
  const out: string[] = [];
  for (const m of messages) {
    if (typeof m.content === "string") {
      out.push(`### ${m.role}\n${m.content}`);
      continue;
    }
    const lines: string[] = [];
    for (const part of m.content) {
      if (part.type === "text") lines.push(part.text);
      else if (part.type === "tool-call") {
        lines.push(
          `[called ${part.toolName} ${truncateMiddle(JSON.stringify(part.input) ?? "", 2000).text}]`,
        );
      } else if (part.type === "tool-result") {
        const value = "value" in part.output ? part.output.value : part.output.type;
        const text = typeof value === "string" ? value : JSON.stringify(value);
        lines.push(
          `[result of ${part.toolName}${part.output.type.startsWith("error") ? " (error)" : ""}]\n${truncateMiddle(text ?? "", 3000).text}`,
        );
      }
    }
    if (lines.length) out.push(`### ${m.role}\n${lines.join("\n")}`);
  }
  return out.join("\n\n");
}

/** Compaction starts when the next prompt is estimated to pass this share of the context window. */
const COMPACT_AT = 0.8;
/** Share of the window the verbatim recent messages may keep after compaction. */
const KEEP_SHARE = 0.3;
/** Past this share even after compaction, the next call would fail anyway. */
const OVERFLOW_AT = 0.95;

export type FitResult =
  | { kind: "fits" }
  | { kind: "compacted"; result: CompactionResult }
  | { kind: "failed"; detail: string }
  | { kind: "overflow"; detail: string }
  | { kind: "aborted" };

/** Compacts `messages` when the next prompt (`estimate` tokens) would come near the window. */
export async function fitContextWindow(options: {
  model: LanguageModel;
  messages: ModelMessage[];
  window: number;
  estimate: number;
  /** System prompt and tool schemas: sent with every call, never compacted. */
  fixedTokens: number;
  maxRetries: number;
  signal: AbortSignal;
}): Promise<FitResult> {
  if (options.estimate <= options.window * COMPACT_AT) return { kind: "fits" };
  const compacted = await compactMessages({
    model: options.model,
    messages: options.messages,
    keepTokens: Math.floor(options.window * KEEP_SHARE),
    maxRetries: options.maxRetries,
    signal: options.signal,
  });
  if (options.signal.aborted) return { kind: "aborted" };
  if (compacted && "failed" in compacted) {
    return { kind: "failed", detail: `compacting the conversation failed: ${compacted.failed}` };
  }
  const after = estimateTokens(compacted ? compacted.messages : options.messages) + options.fixedTokens;
  if (after > options.window * OVERFLOW_AT) {
    return {
      kind: "overflow",
      detail: `the conversation needs about ${after} tokens even after compaction; the model takes ${options.window}`,
    };
  }
  return compacted ? { kind: "compacted", result: compacted } : { kind: "fits" };
}
