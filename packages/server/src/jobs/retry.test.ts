import { JobFailureCode, TRANSIENT_JOB_FAILURES } from "@kiln/protocol";
import { describe, expect, it } from "vitest";
import { MAX_RETRY_DELAY_MS, retryDecision } from "./retry.ts";

describe("retryDecision", () => {
  it("retries transient failures with doubling delays while attempts remain", () => {
    expect(retryDecision("worker_lost", 1, 3, 1000)).toEqual({ retry: true, delayMs: 1000 });
    expect(retryDecision("provider_unavailable", 2, 3, 1000)).toEqual({ retry: true, delayMs: 2000 });
    expect(retryDecision("timeout", 3, 3, 1000)).toEqual({ retry: false });
  });

  it("never retries permanent failures, whatever the attempts left", () => {
    for (const code of JobFailureCode.options.filter((c) => !TRANSIENT_JOB_FAILURES.includes(c))) {
      expect(retryDecision(code, 1, 10, 1000), code).toEqual({ retry: false });
    }
    expect(retryDecision("agent_failed", 1, 10, 0)).toEqual({ retry: false });
    expect(retryDecision("cancelled", 1, 10, 0)).toEqual({ retry: false });
  });

  it("caps the delay", () => {
    expect(retryDecision("worker_lost", 30, 50, 60_000)).toEqual({
      retry: true,
      delayMs: MAX_RETRY_DELAY_MS,
    });
  });
});
