import { APICallError } from "@ai-sdk/provider";
import type { ErrorCode } from "@kiln/protocol";
import { KilnError } from "../errors/errors.ts";
import { egressRefusal } from "./egress.ts";

export class ModelNotConfiguredError extends KilnError {
  constructor() {
    super(
      "model_not_configured",
      "no model named and no default configured: set KILN_MODEL, an org default model, or pass a model ref",
    );
  }
}

export class ProviderNotFoundError extends KilnError {
  constructor(name: string) {
    super("provider_not_found", `no model provider named "${name}" in this org or instance`);
  }
}

export class ModelNotFoundError extends KilnError {
  constructor(message: string) {
    super("model_not_found", message);
  }
}

/** Where a failed model call came from, for the log and the caller. */
export interface ProviderFailure {
  code: ErrorCode;
  status: number;
  message: string;
  upstreamStatus?: number;
  retryAfterSeconds?: number;
}

/**
 * A model call that failed at the provider, after retries. The status is what Kiln's caller should see:
 * an upstream 401 is the org's key being wrong (502), not the caller's Kiln credentials.
 */
export class ProviderCallError extends KilnError {
  readonly failure: ProviderFailure;

  constructor(failure: ProviderFailure, cause?: unknown) {
    // The status is the failure's: an address refused at connect time is the provider's 502, not a 400.
    super(failure.code, failure.message, {
      status: failure.status,
      cause,
      details: {
        ...(failure.upstreamStatus === undefined ? {} : { upstreamStatus: failure.upstreamStatus }),
        ...(failure.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: failure.retryAfterSeconds }),
      },
      headers:
        failure.retryAfterSeconds === undefined ? {} : { "retry-after": String(failure.retryAfterSeconds) },
    });
    this.failure = failure;
  }
}

const MAX_MESSAGE = 500;

/** Classifies anything a provider call can throw into a stable code; never leaks a stack. */
export function describeFailure(err: unknown): ProviderFailure {
  if (err instanceof ProviderCallError) return err.failure;
  if (err instanceof KilnError) return { code: err.code, status: err.status, message: err.message };
  // The provider's address was fine when saved and is not now (its name resolves elsewhere): the call is
  // refused before connecting, a failure of the provider's configuration rather than of the server.
  const refused = egressRefusal(err);
  if (refused) {
    return {
      code: "egress_refused",
      status: 502,
      message: clip(`provider address refused: ${refused.message}`),
    };
  }
  if (APICallError.isInstance(err)) {
    const status = err.statusCode;
    const message = clip(upstreamMessage(err));
    if (status === undefined) {
      return { code: "provider_unreachable", status: 502, message: `provider unreachable: ${message}` };
    }
    if (status === 429) {
      const retryAfter = retryAfterMs(err.responseHeaders);
      return {
        code: "provider_rate_limited",
        status: 429,
        message: `provider rate limit: ${message}`,
        upstreamStatus: status,
        ...(retryAfter === undefined ? {} : { retryAfterSeconds: Math.max(1, Math.ceil(retryAfter / 1000)) }),
      };
    }
    if (status === 401 || status === 403) {
      return {
        code: "provider_auth_failed",
        status: 502,
        message: `the provider refused the configured credentials: ${message}`,
        upstreamStatus: status,
      };
    }
    if (status === 404) {
      return {
        code: "model_not_found",
        status: 404,
        message: `provider: ${message}`,
        upstreamStatus: status,
      };
    }
    if (status >= 400 && status < 500) {
      return {
        code: "provider_rejected",
        status: 400,
        message: `provider: ${message}`,
        upstreamStatus: status,
      };
    }
    return {
      code: "provider_error",
      status: 502,
      message: `provider error: ${message}`,
      upstreamStatus: status,
    };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { code: "provider_error", status: 502, message: clip(message) };
}

export function toProviderCallError(err: unknown): KilnError {
  if (err instanceof KilnError) return err;
  return new ProviderCallError(describeFailure(err), err);
}

/** Whether a retry may help: throttling, overload, server errors and connection failures. */
export function isRetryable(err: unknown): boolean {
  if (!APICallError.isInstance(err) || egressRefusal(err)) return false;
  const status = err.statusCode;
  if (status === undefined) return err.isRetryable;
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/** `retry-after-ms` (OpenAI) or `retry-after` in seconds or as an HTTP date. */
export function retryAfterMs(headers: Record<string, string> | undefined): number | undefined {
  if (!headers) return undefined;
  const ms = Number.parseFloat(headers["retry-after-ms"] ?? "");
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const raw = headers["retry-after"];
  if (raw === undefined) return undefined;
  const seconds = Number.parseFloat(raw);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function upstreamMessage(err: APICallError): string {
  // Providers put the useful sentence in the body ({ error: { message } }); the SDK's message is generic.
  const data = err.data as { error?: { message?: unknown } } | undefined;
  if (typeof data?.error?.message === "string") return data.error.message;
  return err.message;
}

function clip(s: string): string {
  return s.length > MAX_MESSAGE ? `${s.slice(0, MAX_MESSAGE)}…` : s;
}
