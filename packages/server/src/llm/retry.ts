import { APICallError } from "@ai-sdk/provider";
import { isRetryable, retryAfterMs } from "./errors.ts";

export interface RetryPolicy {
  maxRetries: number;
  baseMs: number;
  /** A provider asking for a longer wait than this fails at once; its hint travels with the error. */
  maxWaitSeconds: number;
}

const MAX_BACKOFF_MS = 30_000;

/**
 * Runs `attempt` until it succeeds, fails for good, or the retries are spent. Waits what the provider
 * asks (retry-after-ms / retry-after) or an exponential backoff with jitter; an abort ends the wait.
 * `state.attempts` counts the tries made, for the call log, whatever the outcome.
 */
export async function withRetries<T>(
  attempt: () => PromiseLike<T>,
  policy: RetryPolicy,
  state: { attempts: number },
  signal?: AbortSignal,
  onRetry?: (retry: { retry: number; waitMs: number; error: unknown }) => void,
): Promise<T> {
  for (let n = 0; ; n++) {
    state.attempts = n + 1;
    try {
      return await attempt();
    } catch (err) {
      if (signal?.aborted || n >= policy.maxRetries || !isRetryable(err)) throw err;
      const hinted = APICallError.isInstance(err) ? retryAfterMs(err.responseHeaders) : undefined;
      if (hinted !== undefined && hinted > policy.maxWaitSeconds * 1000) throw err;
      const backoff = Math.min(policy.baseMs * 2 ** n, MAX_BACKOFF_MS) * (0.8 + Math.random() * 0.4);
      const waitMs = Math.round(hinted ?? backoff);
      onRetry?.({ retry: n + 1, waitMs, error: err });
      await sleep(waitMs, signal);
    }
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
