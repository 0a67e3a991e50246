import { createHmac, randomBytes, randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { CsrfTokens } from "./csrf.ts";

const key = randomBytes(32);
const csrf = new CsrfTokens(key);
const session = randomUUID();

describe("CsrfTokens", () => {
  it("accepts its own token echoed in cookie and header for the session it was issued to", () => {
    const token = csrf.issue(session);
    expect(token).toMatch(/^[A-Za-z0-9_-]{24}\.[A-Za-z0-9_-]{43}$/);
    expect(csrf.verify(session, token, token)).toBe(true);
    // Another instance holding the same key (a replica) accepts it too.
    expect(new CsrfTokens(Buffer.from(key)).verify(session, token, token)).toBe(true);
  });

  it("issues a fresh nonce each time, and every one of them verifies", () => {
    const tokens = new Set(Array.from({ length: 50 }, () => csrf.issue(session)));
    expect(tokens.size).toBe(50);
    for (const token of tokens) expect(csrf.verify(session, token, token)).toBe(true);
  });

  it("binds the token to its session", () => {
    const token = csrf.issue(session);
    expect(csrf.verify(randomUUID(), token, token)).toBe(false);
    const other = csrf.issue(randomUUID());
    expect(csrf.verify(session, other, other)).toBe(false);
  });

  it("refuses a missing or empty cookie or header", () => {
    const token = csrf.issue(session);
    expect(csrf.verify(session, undefined, token)).toBe(false);
    expect(csrf.verify(session, token, undefined)).toBe(false);
    expect(csrf.verify(session, undefined, undefined)).toBe(false);
    expect(csrf.verify(session, "", "")).toBe(false);
    expect(csrf.verify(session, token, "")).toBe(false);
  });

  it("refuses a header that differs from the cookie, even when both are valid for the session", () => {
    const a = csrf.issue(session);
    const b = csrf.issue(session);
    expect(csrf.verify(session, a, b)).toBe(false);
    expect(csrf.verify(session, a, `${a} `)).toBe(false);
  });

  it("refuses a matching cookie and header pair that the server did not sign", () => {
    const nonce = randomBytes(18).toString("base64url");
    const forgedWithOtherKey = `${nonce}.${createHmac("sha256", randomBytes(32)).update(`${session}.${nonce}`).digest("base64url")}`;
    for (const forged of [
      "forged.pair",
      "no-dot-at-all",
      `${nonce}.`,
      `.${nonce}`,
      forgedWithOtherKey,
      // An unkeyed hash of the right input is not the MAC either.
      `${nonce}.${createHmac("sha256", "").update(`${session}.${nonce}`).digest("base64url")}`,
    ]) {
      expect(csrf.verify(session, forged, forged), forged).toBe(false);
    }
    expect(new CsrfTokens(randomBytes(32)).verify(session, csrf.issue(session), csrf.issue(session))).toBe(
      false,
    );
  });

  it("refuses a tampered nonce or MAC", () => {
    const token = csrf.issue(session);
    const [nonce, mac] = token.split(".") as [string, string];
    const flip = (s: string) => (s[0] === "A" ? "B" : "A") + s.slice(1);
    for (const tampered of [`${flip(nonce)}.${mac}`, `${nonce}.${flip(mac)}`, `${nonce}.${mac.slice(1)}`]) {
      expect(csrf.verify(session, tampered, tampered), tampered).toBe(false);
    }
  });

  it("refuses extra segments and over-long values", () => {
    const token = csrf.issue(session);
    expect(csrf.verify(session, `${token}.x`, `${token}.x`)).toBe(false);
    const long = `${"a".repeat(200)}.${token}`;
    expect(csrf.verify(session, long, long)).toBe(false);
  });
});
