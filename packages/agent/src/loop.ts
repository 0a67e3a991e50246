import {
  type AgentEvent,
  type ApprovalMode,
  addUsage,
  type RunStatus,
  type RunStopReason,
  type Usage,
  ZERO_USAGE,
} from "@kiln/protocol";
import type { AssistantModelMessage, LanguageModel, ModelMessage, ToolContent } from "ai";
import { ApprovalGate, type ApproveFn } from "./approval.ts";
import { estimateTokens, fitContextWindow, toolTokens } from "./compaction.ts";
import { ToolCallIds } from "./history.ts";
import { LoopBreaker, type LoopDetectionOptions } from "./loop-breaker.ts";
import { type ModelToolCall, streamModelStep, toSdkTools } from "./model-step.ts";
import { errorMessage } from "./text.ts";
import type { ToolCallOutcome, ToolDefinition } from "./tool.ts";
import { ToolRunner } from "./tool-runner.ts";
import type { Workspace } from "./workspace.ts";

export interface RunAgentOptions {
  model: LanguageModel;
  /** Shown in `message-start`. */
  modelId?: string;
  system: string;
  /** All earlier messages plus the new user message, as the model sees them. */
  messages: ModelMessage[];
  tools: ToolDefinition[];
  workspace: Workspace;
  mode: ApprovalMode;
  /**
   * Asked for each mutating call in `ask` mode, unless an earlier `approve-all` in this run (or chat,
   * as the caller decides) covers it. Resolves "timeout" when nobody decided in time.
   */
  approve: ApproveFn;
  messageId: string;
  /** Model calls per run (default 40). */
  maxSteps?: number;
  /** Tokens the model can take; compaction starts near it. */
  contextWindow?: number;
  signal: AbortSignal;
  onEvent(event: AgentEvent): void;
  /** After this long without a decision an approval request counts as "timeout" (default 10 min). */
  approvalTimeoutMs?: number;
  /** Retries of a failed model request (429, 5xx) with backoff, by the AI SDK (default 2). */
  maxRetries?: number;
  loopDetection?: LoopDetectionOptions;
  /** Tool state (todos, shells) for this run; pass one in to keep it across runs. */
  state?: Map<string, unknown>;
}

export interface RunAgentResult {
  status: Exclude<RunStatus, "running">;
  reason: RunStopReason;
  detail?: string;
  usage: Usage;
  /** Messages this run added after `messages` (assistant + tool), to keep for the next turn. */
  messages: ModelMessage[];
  /** Paths written or deleted by tools (the checkpoint commit decides from git status anyway). */
  changedPaths: string[];
}

export const DEFAULT_MAX_STEPS = 40;

class Stop {
  readonly reason: RunStopReason;
  readonly detail?: string;
  constructor(reason: RunStopReason, detail?: string) {
    this.reason = reason;
    this.detail = detail;
  }
}

/**
 * One agent turn: model call → tool calls → results → model call … until the model answers without calling
 * a tool, or a limit, an error or the user stops it. Never throws for expected failures; `message-start` is
 * the first event and `message-end` always the last.
 */
export async function runAgent(options: RunAgentOptions): Promise<RunAgentResult> {
  const { messageId, signal } = options;
  const maxSteps = Math.max(1, options.maxSteps ?? DEFAULT_MAX_STEPS);
  const maxRetries = options.maxRetries ?? 2;
  // A consumer that cannot take events (its database is down) stops the run rather than losing them.
  const internal = new AbortController();
  const runSignal = AbortSignal.any([signal, internal.signal]);
  let consumerError: unknown;
  const emit = (event: AgentEvent) => {
    if (consumerError !== undefined) return;
    try {
      options.onEvent(event);
    } catch (err) {
      consumerError = err;
      internal.abort(err);
    }
  };

  const gate = new ApprovalGate({
    mode: options.mode,
    approve: options.approve,
    timeoutMs: options.approvalTimeoutMs ?? 10 * 60_000,
    emit,
    messageId,
  });
  const offered = gate.offered(options.tools);
  const sdkTools = toSdkTools(offered);
  const runner = new ToolRunner({
    tools: options.tools,
    offered,
    gate,
    workspace: options.workspace,
    state: options.state ?? new Map(),
    messageId,
    signal: runSignal,
    emit,
  });
  const breaker = new LoopBreaker(options.loopDetection);
  const fixedTokens = estimateTokens(options.system) + offered.reduce((n, t) => n + toolTokens(t), 0);
  const ids = new ToolCallIds();
  for (const m of options.messages) {
    if (m.role === "assistant" && typeof m.content !== "string") {
      for (const p of m.content) if (p.type === "tool-call") ids.add(p.toolCallId);
    }
  }

  let context = [...options.messages];
  const added: ModelMessage[] = [];
  const append = (message: ModelMessage) => {
    context.push(message);
    added.push(message);
  };
  let usage = ZERO_USAGE;
  /** Prompt + output tokens the provider reported for the last call, and how many messages that covered. */
  let measured: { tokens: number; messages: number } | undefined;
  let outcome = new Stop("done");

  emit({ type: "message-start", messageId, model: options.modelId ?? modelName(options.model) });
  try {
    for (let step = 0; ; step++) {
      if (runSignal.aborted) throw new Stop("cancelled");
      if (options.contextWindow) {
        // The provider's own count for the last prompt (system and tools included) beats an estimate.
        const fit = await fitContextWindow({
          model: options.model,
          messages: context,
          window: options.contextWindow,
          estimate: measured
            ? measured.tokens + estimateTokens(context.slice(measured.messages))
            : estimateTokens(context) + fixedTokens,
          fixedTokens,
          maxRetries,
          signal: runSignal,
        });
        if (fit.kind === "aborted") throw new Stop("cancelled");
        if (fit.kind === "failed") throw new Stop("model_error", fit.detail);
        if (fit.kind === "overflow") throw new Stop("context_overflow", fit.detail);
        if (fit.kind === "compacted") {
          const { result } = fit;
          usage = addUsage(usage, result.usage);
          emit({ type: "step-finish", messageId, usage: result.usage, finishReason: "compaction" });
          emit({
            type: "compaction",
            messageId,
            summary: result.summary,
            removedMessages: result.removedMessages,
          });
          context = result.messages;
          measured = undefined;
        }
      }

      // Provider ids can repeat across turns (`call_0` every time); the UI and some providers need them unique.
      const calls: ModelToolCall[] = [];
      const started = new Map<string, string>();
      const stepResult = await streamModelStep({
        model: options.model,
        system: options.system,
        messages: context,
        tools: sdkTools,
        maxRetries,
        signal: runSignal,
        messageId,
        emit,
        onToolInputStart(streamedId, toolName) {
          const toolCallId = ids.unique(streamedId);
          started.set(streamedId, toolCallId);
          emit({ type: "tool-input-start", messageId, toolCallId, toolName });
        },
        onToolInputProgress(streamedId, chars, input) {
          const toolCallId = started.get(streamedId);
          if (toolCallId) emit({ type: "tool-input-progress", messageId, toolCallId, chars, input });
        },
        onToolCall(streamed) {
          const toolCallId = started.get(streamed.toolCallId) ?? ids.unique(streamed.toolCallId);
          started.delete(streamed.toolCallId);
          const call = { ...streamed, toolCallId };
          calls.push(call);
          emit({ type: "tool-call-start", messageId, ...call });
        },
      });
      if (stepResult.kind === "aborted") throw new Stop("cancelled");
      if (stepResult.kind === "failed") throw new Stop(stepResult.reason ?? "model_error", stepResult.detail);
      usage = addUsage(usage, stepResult.usage);
      emit({
        type: "step-finish",
        messageId,
        usage: stepResult.usage,
        finishReason: stepResult.finishReason,
      });
      if (stepResult.assistant) append(withCallIds(stepResult.assistant, calls));
      measured =
        stepResult.usage.inputTokens > 0
          ? { tokens: stepResult.usage.inputTokens + stepResult.usage.outputTokens, messages: context.length }
          : undefined;
      if (calls.length === 0) break;

      const outcomes = await runner.runAll(calls);
      append(toolMessage(calls, outcomes));
      if (runSignal.aborted) throw new Stop("cancelled");
      for (const [i, call] of calls.entries()) {
        const failed = outcomes[i]!.isError;
        const loop = breaker.record(call, {
          isError: failed,
          mutated: !failed && !!runner.tool(call.toolName)?.mutates,
        });
        if (loop) throw new Stop("loop_detected", `Stopped: ${loop}.`);
      }
      if (step + 1 >= maxSteps) {
        throw new Stop(
          "step_limit",
          `Stopped after ${maxSteps} model calls; send a message to let the agent continue.`,
        );
      }
    }
  } catch (err) {
    if (consumerError !== undefined) {
      outcome = new Stop("internal_error", `the event consumer failed: ${errorMessage(consumerError)}`);
    } else if (err instanceof Stop) outcome = err;
    else if (signal.aborted) outcome = new Stop("cancelled");
    else outcome = new Stop("internal_error", errorMessage(err));
  } finally {
    for (const fn of runner.cleanups.reverse()) {
      try {
        await fn();
      } catch {
        // Best effort: a shell that will not close must not hide the run's outcome.
      }
    }
  }

  const status: RunAgentResult["status"] =
    outcome.reason === "done" ? "completed" : outcome.reason === "cancelled" ? "cancelled" : "failed";
  emit({
    type: "message-end",
    messageId,
    usage,
    status,
    reason: outcome.reason,
    ...(outcome.detail ? { detail: outcome.detail } : {}),
  });
  return {
    status,
    reason: outcome.reason,
    detail: outcome.detail,
    usage,
    messages: added,
    changedPaths: [...runner.changedPaths],
  };
}

/** The SDK's assistant message with the loop's (unique) call ids; calls appear in the same order. */
function withCallIds(message: AssistantModelMessage, calls: readonly ModelToolCall[]): AssistantModelMessage {
  if (typeof message.content === "string") return message;
  let k = 0;
  return {
    ...message,
    content: message.content.map((p) =>
      p.type === "tool-call" ? { ...p, toolCallId: calls[k++]?.toolCallId ?? p.toolCallId } : p,
    ),
  };
}

function toolMessage(calls: readonly ModelToolCall[], outcomes: readonly ToolCallOutcome[]): ModelMessage {
  const content: ToolContent = calls.map((call, i) => ({
    type: "tool-result",
    toolCallId: call.toolCallId,
    toolName: call.toolName,
    output: outcomes[i]!.isError
      ? { type: "error-text", value: outcomes[i]!.output }
      : { type: "text", value: outcomes[i]!.output },
  }));
  return { role: "tool", content };
}

function modelName(model: LanguageModel): string | undefined {
  if (typeof model === "string") return model;
  return (model as { modelId?: string }).modelId;
}
