import { type AgentEvent, RunStopReason, type Usage, ZERO_USAGE } from "@kiln/protocol";
import {
  APICallError,
  type AssistantModelMessage,
  jsonSchema,
  type LanguageModel,
  type LanguageModelUsage,
  type ModelMessage,
  RetryError,
  streamText,
  type ToolSet,
  tool,
} from "ai";
import { FieldReader } from "./partial-input.ts";
import { errorMessage } from "./text.ts";
import { type ToolDefinition, toolInputJsonSchema } from "./tool.ts";

export interface ModelToolCall {
  toolCallId: string;
  toolName: string;
  /** Parsed arguments, or the raw text when they were not valid JSON. */
  input: unknown;
}

export type StepOutcome =
  | {
      kind: "finished";
      /** Absent when the model produced nothing at all. */
      assistant?: AssistantModelMessage;
      usage: Usage;
      finishReason: string;
    }
  | { kind: "failed"; detail: string; reason?: RunStopReason }
  | { kind: "aborted" };

/**
 * The SDK sees tools with a schema but no `execute`: it streams and parses the calls, and the loop runs
 * them itself so that approvals, ordering and events stay in one place. The schema has no validator, so
 * the SDK only parses JSON; the tool wrapper validates and explains problems to the model.
 */
export function toSdkTools(tools: readonly ToolDefinition[]): ToolSet | undefined {
  if (tools.length === 0) return undefined;
  const set: ToolSet = {};
  for (const t of tools) {
    let sdk = sdkTools.get(t);
    if (!sdk) {
      sdk = tool({ description: t.description, inputSchema: jsonSchema(toolInputJsonSchema(t)) });
      sdkTools.set(t, sdk);
    }
    set[t.name] = sdk;
  }
  return set;
}

/** A tool's schema is converted once, not at every step of every turn (zod's JSON Schema is not cheap). */
const sdkTools = new WeakMap<ToolDefinition, ToolSet[string]>();

/** How often a call's argument progress is reported while nothing new is known but its length. */
const PROGRESS_MS = 250;

export async function streamModelStep(options: {
  model: LanguageModel;
  system: string;
  messages: ModelMessage[];
  tools: ToolSet | undefined;
  maxRetries: number;
  signal: AbortSignal;
  messageId: string;
  emit: (event: AgentEvent) => void;
  /** Each call as soon as the model has finished writing it. */
  onToolCall: (call: ModelToolCall) => void;
  /** A call the model has begun to write (before its arguments stream), by the provider's call id. */
  onToolInputStart?: (toolCallId: string, toolName: string) => void;
  /** Its arguments so far: their length and finished short fields (throttled; every new field at once). */
  onToolInputProgress?: (toolCallId: string, chars: number, input: Record<string, string>) => void;
}): Promise<StepOutcome> {
  const { signal, messageId, emit } = options;
  let usage: Usage = ZERO_USAGE;
  let finishReason = "unknown";
  let failure: unknown;
  let finished = false;
  const writing = new Map<string, { text: string; reader: FieldReader; fields: string; at: number }>();
  try {
    const result = streamText({
      model: options.model,
      instructions: options.system,
      messages: options.messages,
      tools: options.tools,
      maxRetries: options.maxRetries,
      abortSignal: signal,
      // Errors arrive as stream parts and are handled below; the default handler would only log them.
      onError: () => {},
    });
    for await (const part of result.fullStream) {
      switch (part.type) {
        case "text-delta":
          if (part.text) emit({ type: "text-delta", messageId, delta: part.text });
          break;
        case "reasoning-delta":
          if (part.text) emit({ type: "reasoning-delta", messageId, delta: part.text });
          break;
        case "tool-input-start":
          writing.set(part.id, { text: "", reader: new FieldReader(), fields: "{}", at: Date.now() });
          options.onToolInputStart?.(part.id, part.toolName);
          break;
        case "tool-input-delta": {
          const w = writing.get(part.id);
          if (!w) break;
          w.text += part.delta;
          // Read on from where the last piece stopped: a long argument is not read again per piece.
          const input = w.reader.read(w.text);
          const fields = JSON.stringify(input);
          const now = Date.now();
          if (fields !== w.fields || now - w.at >= PROGRESS_MS) {
            w.fields = fields;
            w.at = now;
            options.onToolInputProgress?.(part.id, w.text.length, input);
          }
          break;
        }
        case "tool-call": {
          options.onToolCall({ toolCallId: part.toolCallId, toolName: part.toolName, input: part.input });
          break;
        }
        case "finish-step":
          usage = toUsage(part.usage);
          finishReason = part.finishReason;
          finished = true;
          break;
        case "error":
          failure ??= part.error;
          break;
        default:
          break;
      }
    }
    if (signal.aborted) return { kind: "aborted" };
    if (failure !== undefined) return failed(failure);
    if (!finished) return { kind: "failed", detail: "the model's response ended before it finished" };
    const response = await result.response;
    const assistant = response.messages.find((m): m is AssistantModelMessage => m.role === "assistant");
    return { kind: "finished", assistant, usage, finishReason };
  } catch (err) {
    if (signal.aborted) return { kind: "aborted" };
    return failed(failure ?? err);
  }
}

function failed(err: unknown): StepOutcome {
  const stop = stopOf(err) ?? budgetRefusal(err);
  return stop ? { kind: "failed", ...stop } : { kind: "failed", detail: describeModelError(err) };
}

/**
 * A failure that knows how the turn should stop: the model's host (the server) marks its own errors with
 * `runStopReason` (its database went away), which the loop reports as such rather than as the model's.
 */
export function stopOf(err: unknown): { reason: RunStopReason; detail: string } | undefined {
  let e: unknown = err;
  for (let depth = 0; e && depth < 6; depth++) {
    const parsed = RunStopReason.safeParse((e as { runStopReason?: unknown }).runStopReason);
    if (parsed.success) return { reason: parsed.data, detail: errorMessage(e) };
    e = (e as { cause?: unknown; lastError?: unknown }).lastError ?? (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * A worker's call refused by Kiln's proxy for a spend budget (402 `budget_exceeded`, ADR 0029): the turn
 * stops for that reason, with the proxy's message (which budget, and that an admin can raise it).
 */
function budgetRefusal(err: unknown): { reason: RunStopReason; detail: string } | undefined {
  const e = RetryError.isInstance(err) ? err.lastError : err;
  if (!APICallError.isInstance(e) || e.statusCode !== 402) return undefined;
  if (!e.responseBody?.includes('"budget_exceeded"')) return undefined;
  return { reason: "budget_exceeded", detail: e.message };
}

export function toUsage(usage: LanguageModelUsage | undefined): Usage {
  return {
    inputTokens: usage?.inputTokens ?? 0,
    outputTokens: usage?.outputTokens ?? 0,
    cachedInputTokens: usage?.inputTokenDetails?.cacheReadTokens ?? 0,
  };
}

export function describeModelError(err: unknown): string {
  if (RetryError.isInstance(err)) {
    return `${describeModelError(err.lastError)} (gave up after ${err.errors.length} attempts)`;
  }
  if (APICallError.isInstance(err)) {
    const status = err.statusCode;
    if (status !== undefined && status >= 200 && status < 300) {
      const cause = err.cause ? `: ${errorMessage(err.cause)}` : "";
      return `the model provider's response broke off before it finished${cause}`;
    }
    const body =
      err.responseBody && !err.responseBody.includes(err.message)
        ? ` (${err.responseBody.slice(0, 300)})`
        : "";
    return `the model provider answered ${status ? `HTTP ${status}` : "with an error"}: ${err.message}${body}`;
  }
  return `the model call failed: ${errorMessage(err)}`;
}
