import type { LanguageModelV4CallOptions } from "@ai-sdk/provider";
import type { LlmCallContext } from "./call-context.ts";
import type { TokenCounts } from "./prices.ts";
import { promptChars } from "./usage.ts";

/** What a call is about to ask for: the prompt's tokens (estimated from its text) and the most it may write. */
export interface CallEstimate {
  provider: string;
  modelId: string;
  inputTokens: number;
  outputTokens: number;
}

/** A call's reservation against the budgets that apply to it; settled exactly once, when the call ends. */
export interface BudgetHold {
  /** Releases the estimate and books what the call actually used (off the caller's path). */
  settle(actual: TokenCounts): void;
}

/**
 * Spend budgets as the gateway's middleware sees them (ADR 0029; budgets/ implements it): `reserve` holds
 * an estimate against every budget that applies, atomically, or throws `budget_exceeded`; undefined when
 * no budget applies.
 */
export interface BudgetGuard {
  reserve(ctx: LlmCallContext, call: CallEstimate): Promise<BudgetHold | undefined>;
}

/** The output reserved for a call that names no maximum (most agent turns stay well under it). */
export const DEFAULT_RESERVED_OUTPUT_TOKENS = 4096;

/** Holds a call's estimate against its budgets: the prompt's tokens (≈4 characters each) and its output cap. */
export function reserve(
  guard: BudgetGuard | undefined,
  scope: { ctx: LlmCallContext; provider: string; modelId: string },
  params: LanguageModelV4CallOptions,
): Promise<BudgetHold | undefined> {
  if (!guard) return Promise.resolve(undefined);
  return guard.reserve(scope.ctx, {
    provider: scope.provider,
    modelId: scope.modelId,
    inputTokens: Math.ceil(promptChars(params.prompt) / 4),
    outputTokens: params.maxOutputTokens ?? DEFAULT_RESERVED_OUTPUT_TOKENS,
  });
}
