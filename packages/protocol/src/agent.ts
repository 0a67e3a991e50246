import { z } from "zod";

/**
 * What an agent run emits, in order, to the browser (SSE), to the chat store and to job logs. One
 * discriminated union for all consumers; `seq` numbers are added by the server when it stores an event
 * (they are the SSE ids a reconnecting client sends back as Last-Event-ID).
 */

export const ApprovalMode = z
  .enum(["allow", "ask", "plan"])
  .describe("allow: tools run at once; ask: mutating tools and bash wait for a decision; plan: no mutations");
export type ApprovalMode = z.infer<typeof ApprovalMode>;

export const ApprovalDecision = z.enum(["approve", "approve-all", "reject"]);
export type ApprovalDecision = z.infer<typeof ApprovalDecision>;

export const Usage = z.object({
  inputTokens: z.number().int().nonnegative(),
  outputTokens: z.number().int().nonnegative(),
  cachedInputTokens: z.number().int().nonnegative(),
});
export type Usage = z.infer<typeof Usage>;

export const ZERO_USAGE: Usage = { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0 };

export function addUsage(a: Usage, b: Partial<Usage> | undefined): Usage {
  return {
    inputTokens: a.inputTokens + (b?.inputTokens ?? 0),
    outputTokens: a.outputTokens + (b?.outputTokens ?? 0),
    cachedInputTokens: a.cachedInputTokens + (b?.cachedInputTokens ?? 0),
  };
}

export const RunStatus = z.enum(["running", "completed", "cancelled", "failed", "interrupted"]);
export type RunStatus = z.infer<typeof RunStatus>;

/** Why a run stopped when it did not simply finish. Stable codes; the message is for humans. */
export const RunStopReason = z.enum([
  "done",
  "cancelled",
  "step_limit",
  "loop_detected",
  "model_error",
  "context_overflow",
  "interrupted",
  /** Kiln lost its database for longer than the turn could wait; resume it to continue. */
  "database_unavailable",
  /** A spend budget's hard cap refused the model call (ADR 0029); an org admin can raise it. */
  "budget_exceeded",
  "internal_error",
]);
export type RunStopReason = z.infer<typeof RunStopReason>;

export const TodoItem = z.object({
  id: z.string().min(1).max(64),
  content: z.string().min(1).max(500),
  status: z.enum(["pending", "in_progress", "completed", "cancelled"]),
});
export type TodoItem = z.infer<typeof TodoItem>;

const base = { messageId: z.string() };

export const AgentEvent = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("message-start"),
    ...base,
    model: z.string().optional(),
    /** The agent definition and version the turn runs (ADR 0035). */
    agent: z.object({ id: z.string(), version: z.number().int().positive() }).optional(),
  }),
  z.object({ type: z.literal("text-delta"), ...base, delta: z.string() }),
  z.object({ type: z.literal("reasoning-delta"), ...base, delta: z.string() }),
  /** The model began writing a call; its arguments stream next (`tool-input-progress`), then `tool-call-start`. */
  z.object({ type: z.literal("tool-input-start"), ...base, toolCallId: z.string(), toolName: z.string() }),
  /**
   * How far the model is with a call's arguments: their length so far and the short string fields it has
   * finished (`path`, `command`…), so the UI can say "Writing src/App.tsx…" before the file text is done.
   */
  z.object({
    type: z.literal("tool-input-progress"),
    ...base,
    toolCallId: z.string(),
    chars: z.number().int().nonnegative(),
    input: z.record(z.string(), z.string()),
  }),
  /** The model finished writing a call; it runs next (or waits for approval). */
  z.object({
    type: z.literal("tool-call-start"),
    ...base,
    toolCallId: z.string(),
    toolName: z.string(),
    input: z.unknown(),
  }),
  z.object({
    type: z.literal("approval-request"),
    ...base,
    toolCallId: z.string(),
    toolName: z.string(),
    input: z.unknown(),
    /** ISO time after which the call is rejected on its own. */
    expiresAt: z.string(),
  }),
  z.object({
    type: z.literal("approval-resolved"),
    ...base,
    toolCallId: z.string(),
    decision: ApprovalDecision.or(z.literal("timeout")),
  }),
  z.object({
    type: z.literal("tool-call-end"),
    ...base,
    toolCallId: z.string(),
    toolName: z.string(),
    /** What the model sees. */
    output: z.string(),
    /** For the UI (diffs, exit codes, file lists); never sent to the model. */
    metadata: z.unknown().optional(),
    isError: z.boolean(),
    durationMs: z.number().nonnegative(),
  }),
  /** One model call finished (a turn may take many). */
  z.object({
    type: z.literal("step-finish"),
    ...base,
    usage: Usage,
    finishReason: z.string(),
  }),
  z.object({
    type: z.literal("message-end"),
    ...base,
    usage: Usage,
    status: RunStatus,
    reason: RunStopReason,
    /** Human-readable detail for reasons other than `done`. */
    detail: z.string().optional(),
  }),
  /** Context was compacted: older messages were replaced by a summary. */
  z.object({ type: z.literal("compaction"), ...base, summary: z.string(), removedMessages: z.number() }),
  z.object({ type: z.literal("todos"), ...base, todos: z.array(TodoItem) }),
  /** The turn's file changes were saved as a git commit (undo/restore points). */
  z.object({ type: z.literal("checkpoint"), ...base, sha: z.string(), filesChanged: z.number().int() }),
  /**
   * The provider refused a model call with an error a retry may cure (429, 5xx, no connection): the gateway
   * waits `waitMs` and makes retry number `retry` of at most `maxRetries`.
   */
  z.object({
    type: z.literal("model-retry"),
    ...base,
    retry: z.number().int().positive(),
    maxRetries: z.number().int().positive(),
    waitMs: z.number().nonnegative(),
    code: z.string(),
    message: z.string(),
  }),
  /** A recoverable problem worth showing (a retried provider error); fatal ones end in `message-end`. */
  z.object({ type: z.literal("error"), ...base, code: z.string(), message: z.string() }),
]);
export type AgentEvent = z.infer<typeof AgentEvent>;
export type AgentEventType = AgentEvent["type"];
