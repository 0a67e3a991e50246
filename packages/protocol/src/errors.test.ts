import { describe, expect, it } from "vitest";
import { ERROR_CODES, ERROR_STATUS, hasErrorStatus } from "./errors.ts";

describe("the error code → HTTP status table", () => {
  it("gives every code exactly one error status and names no other code", () => {
    expect(Object.keys(ERROR_STATUS).sort()).toEqual([...ERROR_CODES].sort());
    for (const code of ERROR_CODES) {
      const status = ERROR_STATUS[code];
      expect(Number.isInteger(status), code).toBe(true);
      expect(status >= 400 && status <= 599, `${code} → ${status}`).toBe(true);
    }
  });

  it("answers the codes clients branch on with their usual statuses", () => {
    expect(ERROR_STATUS.validation_failed).toBe(400);
    expect(ERROR_STATUS.unauthenticated).toBe(401);
    expect(ERROR_STATUS.csrf_failed).toBe(403);
    expect(ERROR_STATUS.project_not_found).toBe(404);
    expect(ERROR_STATUS.slug_taken).toBe(409);
    expect(ERROR_STATUS.invitation_expired).toBe(410);
    expect(ERROR_STATUS.rate_limited).toBe(429);
    expect(ERROR_STATUS.internal_error).toBe(500);
  });

  it("tells whether a code is answered with a given status", () => {
    expect(hasErrorStatus("token_expired", 401)).toBe(true);
    expect(hasErrorStatus("forbidden", 401)).toBe(false);
  });
});
