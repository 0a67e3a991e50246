import type {
  LanguageModelV4CallOptions,
  LanguageModelV4Middleware,
  LanguageModelV4Prompt,
  LanguageModelV4StreamPart,
  LanguageModelV4Usage,
} from "@ai-sdk/provider";
import type { LlmCallStatus } from "@kiln/protocol";
import type { FastifyBaseLogger } from "fastify";
import { type BudgetGuard, type BudgetHold, reserve } from "./budget-guard.ts";
import type { LlmCallContext, ModelRetryNotice } from "./call-context.ts";
import type { CallLog, CallRecord } from "./call-log.ts";
import { describeFailure, toProviderCallError } from "./errors.ts";
import type { LlmRateLimiter } from "./rate-limit.ts";
import { type RetryPolicy, withRetries } from "./retry.ts";
import { promptChars, tokensOf } from "./usage.ts";

/** Which call this is: who asked, for which model, under which limit. */
export interface CallScope {
  ctx: LlmCallContext;
  provider: string;
  modelId: string;
  rateLimitPerMinute: number;
}

export interface MiddlewareDeps {
  limiter: LlmRateLimiter;
  calls: CallLog;
  retry: RetryPolicy;
  log: FastifyBaseLogger;
  /** Spend budgets (ADR 0029): a reservation before the call, settled when it ends. */
  budgets?: BudgetGuard | undefined;
}

/**
 * Before each retry: a line in the log (info: the call may still succeed) and a word to the caller, so a
 * user waiting on a throttled provider sees why and for how long.
 */
function retryNotifier(scope: CallScope, deps: MiddlewareDeps) {
  return ({ retry, waitMs, error }: { retry: number; waitMs: number; error: unknown }) => {
    const failure = describeFailure(error);
    const notice = {
      retry,
      maxRetries: deps.retry.maxRetries,
      waitMs,
      code: failure.code,
      message: failure.message,
    };
    deps.log.info(
      { provider: scope.provider, model: scope.modelId, source: scope.ctx.source, ...notice },
      "model call refused; retrying",
    );
    try {
      scope.ctx.onRetry?.(notice);
    } catch (err) {
      deps.log.warn({ err }, "reporting a model call's retry failed");
    }
  };
}

/** The rate limit's count needs the database; while it is away, the caller hears why the call waits. */
function waitingFor(scope: CallScope, deps: MiddlewareDeps, params: LanguageModelV4CallOptions) {
  return {
    signal: params.abortSignal,
    onWait(notice: ModelRetryNotice) {
      deps.log.warn({ source: scope.ctx.source, ...notice }, "database unavailable; the model call waits");
      try {
        scope.ctx.onRetry?.(notice);
      } catch (err) {
        deps.log.warn({ err }, "reporting a model call's wait failed");
      }
    },
  };
}

/**
 * What every model the gateway hands out is wrapped in: the org's rate limit, retries on 429/5xx, and one
 * `llm_calls` row per call (ok, error, cancelled or cut short). Callers only ever get the wrapped model,
 * so neither chats, jobs nor the proxy can reach a provider without passing through here.
 */
export function gatewayMiddleware(scope: CallScope, deps: MiddlewareDeps): LanguageModelV4Middleware {
  return {
    specificationVersion: "v4",
    async wrapGenerate({ doGenerate, params }) {
      const call = new CallTracker(scope, deps, false, params);
      await deps.limiter.hit(scope.ctx.org.id, scope.rateLimitPerMinute, waitingFor(scope, deps, params));
      call.hold = await reserve(deps.budgets, scope, params);
      try {
        const result = await withRetries(
          doGenerate,
          deps.retry,
          call,
          params.abortSignal,
          retryNotifier(scope, deps),
        );
        for (const part of result.content) {
          if (part.type === "text" || part.type === "reasoning") call.outputChars += part.text.length;
          else if (part.type === "tool-call") call.outputChars += part.input.length;
        }
        const failed = result.finishReason.unified === "error";
        call.end(
          failed ? "error" : "ok",
          result.usage,
          failed ? { code: "provider_error", message: "the model stopped with an error" } : undefined,
        );
        return result;
      } catch (err) {
        throw call.fail(err, params.abortSignal);
      }
    },

    async wrapStream({ doStream, params }) {
      const call = new CallTracker(scope, deps, true, params);
      await deps.limiter.hit(scope.ctx.org.id, scope.rateLimitPerMinute, waitingFor(scope, deps, params));
      call.hold = await reserve(deps.budgets, scope, params);
      let result: Awaited<ReturnType<typeof doStream>>;
      try {
        result = await withRetries(
          doStream,
          deps.retry,
          call,
          params.abortSignal,
          retryNotifier(scope, deps),
        );
      } catch (err) {
        throw call.fail(err, params.abortSignal);
      }
      return { ...result, stream: observe(result.stream, call, params.abortSignal) };
    },
  };
}

/** Timing and counts of one call, until it is written to the log (exactly once). */
class CallTracker {
  readonly #scope: CallScope;
  readonly #deps: MiddlewareDeps;
  readonly #stream: boolean;
  readonly #prompt: LanguageModelV4Prompt;
  readonly #createdAt = new Date();
  readonly #started = performance.now();
  #ttftMs: number | null = null;
  #done = false;
  attempts = 0;
  outputChars = 0;
  /** Settled with the call's tokens when the call ends, however it ends. */
  hold: BudgetHold | undefined;

  constructor(scope: CallScope, deps: MiddlewareDeps, stream: boolean, params: LanguageModelV4CallOptions) {
    this.#scope = scope;
    this.#deps = deps;
    this.#stream = stream;
    this.#prompt = params.prompt;
  }

  firstToken(): void {
    this.#ttftMs ??= Math.round(performance.now() - this.#started);
  }

  /** Logs a call that failed before (or instead of) producing a result; returns what to throw. */
  fail(err: unknown, signal: AbortSignal | undefined): unknown {
    if (signal?.aborted) {
      this.end("cancelled", undefined, { code: "cancelled", message: "the caller cancelled the call" });
      return err;
    }
    const failure = describeFailure(err);
    this.end("error", undefined, { code: failure.code, message: failure.message });
    return toProviderCallError(err);
  }

  end(
    status: LlmCallStatus,
    usage: LanguageModelV4Usage | undefined,
    error?: { code: string; message: string },
  ): void {
    if (this.#done) return;
    this.#done = true;
    const { ctx } = this.#scope;
    const reported = usage?.inputTokens.total !== undefined || usage?.outputTokens.total !== undefined;
    // Without a usage report (a cut or cancelled stream) the provider may still bill what it did; a rough
    // count from the text (≈4 characters a token) beats a zero in the usage report.
    const produced = this.outputChars > 0 || this.#ttftMs !== null;
    const estimate = !reported && produced;
    const tokens = reported
      ? tokensOf(usage)
      : estimate
        ? {
            input: Math.ceil(promptChars(this.#prompt) / 4),
            output: Math.ceil(this.outputChars / 4),
            cacheRead: 0,
          }
        : { input: 0, output: 0, cacheRead: 0 };
    const record: CallRecord = {
      projectId: ctx.projectId,
      chatId: ctx.chatId,
      messageId: ctx.messageId,
      jobId: ctx.jobId,
      userId: ctx.userId,
      onBehalfOf: ctx.onBehalfOf,
      source: ctx.source,
      provider: this.#scope.provider,
      model: this.#scope.modelId,
      stream: this.#stream,
      inputTokens: tokens.input,
      outputTokens: tokens.output,
      cachedInputTokens: tokens.cacheRead,
      tokensEstimated: estimate,
      ttftMs: this.#ttftMs,
      durationMs: Math.round(performance.now() - this.#started),
      status,
      errorCode: error?.code ?? null,
      errorMessage: error?.message ?? null,
      attempts: Math.max(1, this.attempts),
      createdAt: this.#createdAt,
    };
    this.#deps.calls.record(ctx.org, record);
    this.hold?.settle({
      inputTokens: tokens.input,
      outputTokens: tokens.output,
      cachedInputTokens: tokens.cacheRead,
    });
  }
}

/**
 * Passes the provider's stream through untouched while noting the first token, the usage and how it
 * ended. The log row is written when the stream ends, errors, or is cancelled by its reader — never
 * before, and never by holding a part back.
 */
function observe(
  source: ReadableStream<LanguageModelV4StreamPart>,
  call: CallTracker,
  signal: AbortSignal | undefined,
): ReadableStream<LanguageModelV4StreamPart> {
  const reader = source.getReader();
  let usage: LanguageModelV4Usage | undefined;
  let finish: string | undefined;
  let streamError: unknown;
  const settle = () => {
    if (signal?.aborted) {
      call.end("cancelled", usage, { code: "cancelled", message: "the caller cancelled the call" });
    } else if (streamError !== undefined) {
      const failure = describeFailure(streamError);
      call.end("error", usage, { code: failure.code, message: failure.message });
    } else if (finish === undefined || finish === "interrupted") {
      call.end("error", usage, { code: "stream_interrupted", message: "the provider's stream ended early" });
    } else if (finish === "error") {
      call.end("error", usage, { code: "provider_error", message: "the model stopped with an error" });
    } else {
      call.end("ok", usage);
    }
  };
  return new ReadableStream<LanguageModelV4StreamPart>(
    {
      async pull(controller) {
        let next: Awaited<ReturnType<typeof reader.read>>;
        try {
          next = await reader.read();
        } catch (err) {
          streamError ??= err;
          settle();
          controller.error(err);
          return;
        }
        if (next.done) {
          settle();
          controller.close();
          return;
        }
        const part = next.value;
        switch (part.type) {
          case "text-delta":
          case "reasoning-delta":
          case "tool-input-delta":
            call.firstToken();
            call.outputChars += part.delta.length;
            break;
          case "tool-input-start":
            call.firstToken();
            break;
          case "tool-call":
            call.firstToken();
            break;
          case "finish":
            usage = part.usage;
            finish = part.finishReason.unified;
            break;
          case "error":
            streamError ??= part.error;
            break;
        }
        controller.enqueue(part);
      },
      async cancel(reason) {
        call.end("cancelled", usage, { code: "cancelled", message: "the reader stopped reading" });
        await reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}
