import { type JobFailureCode, TRANSIENT_JOB_FAILURES } from "@kiln/protocol";

/** Waits between attempts never exceed this, however many attempts a job is allowed. */
export const MAX_RETRY_DELAY_MS = 10 * 60_000;

export interface RetryPolicy {
  maxAttempts: number;
  /** Delay before the second attempt; doubled for each one after it. */
  baseDelayMs: number;
}

/**
 * Whether an attempt that ended with `code` is tried again, and after how long. Only failures another try
 * can fix are retried: a vanished worker, a provider outage, a time-out. An agent that failed at the work,
 * or a job someone cancelled, would fail (or be unwanted) the same way again.
 */
export function retryDecision(
  code: JobFailureCode,
  attempt: number,
  maxAttempts: number,
  baseDelayMs: number,
): { retry: true; delayMs: number } | { retry: false } {
  if (!TRANSIENT_JOB_FAILURES.includes(code) || attempt >= maxAttempts) return { retry: false };
  const delayMs = Math.min(MAX_RETRY_DELAY_MS, baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return { retry: true, delayMs };
}
