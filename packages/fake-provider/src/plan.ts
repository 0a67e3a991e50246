import { randomBytes } from "node:crypto";
import type { Api, ErrorReply, FakeUsage, Reply, StreamErrorReply } from "./types.ts";

export interface PlannedToolCall {
  id: string;
  name: string;
  /** Exactly what goes on the wire (possibly malformed JSON). */
  arguments: string;
}

/** A reply resolved against one request: what to say, how to chunk it, and whether to cut it short. */
export interface Plan {
  text: string;
  reasoning: string;
  toolCalls: PlannedToolCall[];
  usage: Required<FakeUsage>;
  chunkSize: number;
  delayMs: number;
  /** How the answer stops early, if it does. */
  ending: Ending | undefined;
}

export type Ending =
  | { kind: "cut" | "hang"; afterChunks: number }
  | { kind: "error"; afterChunks: number; error: StreamErrorReply["error"] };

export type Resolution =
  | { kind: "answer"; plan: Plan }
  | { kind: "error"; error: ErrorReply["error"] }
  | { kind: "hang" };

export const DEFAULT_CHUNK_SIZE = 8;

export function newId(prefix: string): string {
  return `${prefix}${randomBytes(12).toString("base64url").replaceAll(/[-_]/g, "x")}`;
}

/** Throws on a value that is not one of the Reply shapes, so a typo in a script fails where it was written. */
export function assertReply(value: unknown, where: string): asserts value is Reply {
  if (value === null || typeof value !== "object") {
    throw new TypeError(`fake-provider: ${where} is not a reply object: ${JSON.stringify(value)}`);
  }
  const r = value as Record<string, unknown>;
  if ("repeat" in r) return assertReply(r.repeat, `${where}.repeat`);
  for (const key of ["cutAfterChunks", "hangAfterChunks", "errorAfterChunks"]) {
    if (!(key in r)) continue;
    const n = r[key];
    if (typeof n !== "number" || !(n >= 0))
      throw new TypeError(`fake-provider: ${where}.${key} must be a number >= 0`);
    return assertReply(r.reply, `${where}.reply`);
  }
  if ("error" in r) {
    const e = r.error as { status?: unknown } | null;
    if (!e || typeof e.status !== "number")
      throw new TypeError(`fake-provider: ${where}.error.status is required`);
    return;
  }
  if (r.hang === true) return;
  if (Array.isArray(r.toolCalls)) {
    for (const call of r.toolCalls as Array<{ name?: unknown }>) {
      if (!call || typeof call.name !== "string") {
        throw new TypeError(`fake-provider: ${where}.toolCalls entries need a name`);
      }
    }
    return;
  }
  if (typeof r.text === "string") return;
  throw new TypeError(
    `fake-provider: ${where} has none of text, toolCalls, error, hang, repeat, cut/hang/errorAfterChunks: ${JSON.stringify(value)}`,
  );
}

/** Peels `repeat` and the early endings off a reply and fills in ids, chunking and usage. */
export function resolveReply(reply: Reply, api: Api, body: unknown, defaultDelayMs: number): Resolution {
  let ending: Ending | undefined;
  let current: Reply = reply;
  const after = (n: number) => Math.max(0, Math.floor(n));
  for (;;) {
    if ("repeat" in current) current = current.repeat;
    else if ("cutAfterChunks" in current) {
      ending ??= { kind: "cut", afterChunks: after(current.cutAfterChunks) };
      current = current.reply;
    } else if ("hangAfterChunks" in current) {
      ending ??= { kind: "hang", afterChunks: after(current.hangAfterChunks) };
      current = current.reply;
    } else if ("errorAfterChunks" in current) {
      ending ??= { kind: "error", afterChunks: after(current.errorAfterChunks), error: current.error };
      current = current.reply;
    } else break;
  }
  if ("hang" in current) return { kind: "hang" };
  if ("error" in current) return { kind: "error", error: current.error };

  const text = current.text ?? "";
  const reasoning = "reasoning" in current ? (current.reasoning ?? "") : "";
  const toolCalls = ("toolCalls" in current ? current.toolCalls : []).map((call) => ({
    id: call.id ?? newId(api === "openai" ? "call_" : "toolu_"),
    name: call.name,
    arguments: typeof call.arguments === "string" ? call.arguments : JSON.stringify(call.arguments ?? {}),
  }));
  const outputChars = text.length + reasoning.length + toolCalls.reduce((n, c) => n + c.arguments.length, 0);
  const given = current.usage ?? {};
  const cachedInputTokens = given.cachedInputTokens ?? 0;
  const usage = {
    inputTokens: Math.max(given.inputTokens ?? estimateTokens(promptText(body)), cachedInputTokens),
    outputTokens: given.outputTokens ?? Math.max(1, Math.ceil(outputChars / 4)),
    cachedInputTokens,
  };
  return {
    kind: "answer",
    plan: {
      text,
      reasoning,
      toolCalls,
      usage,
      chunkSize: Math.max(1, Math.floor(current.chunkSize ?? DEFAULT_CHUNK_SIZE)),
      delayMs: Math.max(0, current.delayMs ?? defaultDelayMs),
      ending,
    },
  };
}

function promptText(body: unknown): string {
  if (!body || typeof body !== "object") return "";
  const { system, instructions, messages, input, tools } = body as Record<string, unknown>;
  return JSON.stringify([system ?? instructions ?? null, messages ?? input ?? null, tools ?? null]);
}

/** Roughly four characters per token, never zero. */
export function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

export function splitChunks(text: string, size: number): string[] {
  const pieces: string[] = [];
  for (let i = 0; i < text.length; i += size) pieces.push(text.slice(i, i + size));
  return pieces;
}
