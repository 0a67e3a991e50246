import { describe, expect, it } from "vitest";
import { signatureHeader, verifySignature } from "./signature.ts";

const SECRET = "whsec_test";
const BODY = JSON.stringify({ event: "job.finished", data: { id: 1 } });
const AT = new Date("2026-12-07T10:00:00Z");

describe("webhook signatures", () => {
  it("verifies its own header, at the time it was made", () => {
    const header = signatureHeader(SECRET, BODY, AT);
    expect(header).toMatch(/^t=1796637600,v1=[0-9a-f]{64}$/);
    expect(verifySignature(SECRET, BODY, header, { now: AT })).toBe(true);
  });

  it("refuses another body, another secret, an old or future timestamp and garbage", () => {
    const header = signatureHeader(SECRET, BODY, AT);
    expect(verifySignature(SECRET, `${BODY} `, header, { now: AT })).toBe(false);
    expect(verifySignature("whsec_other", BODY, header, { now: AT })).toBe(false);
    expect(verifySignature(SECRET, BODY, header, { now: new Date(AT.getTime() + 301_000) })).toBe(false);
    expect(verifySignature(SECRET, BODY, header, { now: new Date(AT.getTime() - 301_000) })).toBe(false);
    // The timestamp is under the MAC: moving it breaks the signature.
    const moved = header.replace("t=1796637600", "t=1796637700");
    expect(verifySignature(SECRET, BODY, moved, { now: new Date(AT.getTime() + 100_000) })).toBe(false);
    for (const bad of [
      undefined,
      "",
      "t=,v1=",
      "v1=abc",
      "t=1796637600",
      `t=1796637600,v1=${"0".repeat(64)}`,
      "x".repeat(2000),
    ]) {
      expect(verifySignature(SECRET, BODY, bad, { now: AT })).toBe(false);
    }
  });

  it("accepts any of several v1 MACs (a rotated secret signs twice)", () => {
    const header = signatureHeader(SECRET, BODY, AT);
    const other = signatureHeader("whsec_old", BODY, AT).split(",")[1];
    expect(verifySignature(SECRET, BODY, `${header},${other}`, { now: AT })).toBe(true);
  });
});
