import { APICallError } from "@ai-sdk/provider";
import { describe, expect, it } from "vitest";
import { describeFailure, isRetryable, retryAfterMs } from "./errors.ts";
import { withRetries } from "./retry.ts";

const apiError = (statusCode: number | undefined, headers: Record<string, string> = {}, data?: unknown) =>
  new APICallError({
    message: "generic",
    url: "http://x/v1/chat/completions",
    requestBodyValues: {},
    ...(statusCode === undefined ? {} : { statusCode }),
    responseHeaders: headers,
    data,
    isRetryable: statusCode === undefined || statusCode === 429 || statusCode >= 500,
  });

describe("describeFailure", () => {
  it("maps provider answers to stable codes and the status Kiln's caller should see", () => {
    const cases: Array<[APICallError, string, number]> = [
      [apiError(429, { "retry-after": "7" }), "provider_rate_limited", 429],
      [apiError(401), "provider_auth_failed", 502],
      [apiError(403), "provider_auth_failed", 502],
      [apiError(404), "model_not_found", 404],
      [apiError(400), "provider_rejected", 400],
      [apiError(422), "provider_rejected", 400],
      [apiError(500), "provider_error", 502],
      [apiError(529), "provider_error", 502],
      [apiError(undefined), "provider_unreachable", 502],
    ];
    for (const [err, code, status] of cases) {
      expect(describeFailure(err)).toMatchObject({ code, status });
    }
    expect(describeFailure(apiError(429, { "retry-after": "7" })).retryAfterSeconds).toBe(7);
    expect(describeFailure(apiError(400, {}, { error: { message: "context too long" } })).message).toBe(
      "provider: context too long",
    );
    expect(describeFailure(new Error("x".repeat(5_000))).message.length).toBeLessThan(600);
  });

  it("retries throttling, overload, server errors and dropped connections only", () => {
    expect([429, 500, 503, 529, 408, undefined].map((s) => isRetryable(apiError(s)))).toEqual(
      Array(6).fill(true),
    );
    expect([400, 401, 404, 422].map((s) => isRetryable(apiError(s)))).toEqual(Array(4).fill(false));
    expect(isRetryable(new Error("boom"))).toBe(false);
  });
});

describe("retryAfterMs", () => {
  it("reads retry-after-ms, seconds or an HTTP date", () => {
    expect(retryAfterMs({ "retry-after-ms": "250" })).toBe(250);
    expect(retryAfterMs({ "retry-after": "2" })).toBe(2_000);
    const at = retryAfterMs({ "retry-after": new Date(Date.now() + 5_000).toUTCString() })!;
    expect(at).toBeGreaterThan(3_000);
    expect(retryAfterMs({ "retry-after": "soon" })).toBeUndefined();
    expect(retryAfterMs(undefined)).toBeUndefined();
  });
});

describe("withRetries", () => {
  const policy = { maxRetries: 3, baseMs: 1, maxWaitSeconds: 1 };

  it("retries until success and counts attempts", async () => {
    const state = { attempts: 0 };
    let n = 0;
    const value = await withRetries(
      async () => {
        if (++n < 3) throw apiError(503, { "retry-after-ms": "1" });
        return "ok";
      },
      policy,
      state,
    );
    expect([value, state.attempts]).toEqual(["ok", 3]);
  });

  it("gives up at once on a hint longer than allowed, on a 400, and on abort", async () => {
    const state = { attempts: 0 };
    await expect(
      withRetries(() => Promise.reject(apiError(429, { "retry-after": "30" })), policy, state),
    ).rejects.toBeInstanceOf(APICallError);
    expect(state.attempts).toBe(1);
    await expect(withRetries(() => Promise.reject(apiError(400)), policy, state)).rejects.toBeInstanceOf(
      APICallError,
    );
    expect(state.attempts).toBe(1);
    const controller = new AbortController();
    const slow = { maxRetries: 3, baseMs: 60_000, maxWaitSeconds: 1 };
    const pending = withRetries(() => Promise.reject(apiError(500)), slow, state, controller.signal);
    // Abort while it waits before the second attempt.
    await new Promise((r) => setTimeout(r, 20));
    controller.abort(new Error("stop"));
    await expect(pending).rejects.toThrow("stop");
  });
});
