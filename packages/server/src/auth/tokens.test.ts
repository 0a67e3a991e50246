import { randomBytes, randomUUID } from "node:crypto";
import { decodeJwt, decodeProtectedHeader, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { UnauthenticatedError } from "../errors/errors.ts";
import { AccessTokens, API_TOKEN_PREFIX, hashToken, opaqueToken } from "./tokens.ts";

const key = randomBytes(32);
const tokens = new AccessTokens(key, 900);
const claims = { userId: randomUUID(), sessionId: randomUUID() };

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

/** A JWT signed with `key` whose claims the test chooses, starting from what the server would issue. */
async function craft(
  overrides: Record<string, unknown>,
  opts: { alg?: string; key?: Uint8Array; issuer?: string; audience?: string } = {},
) {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ sid: claims.sessionId, typ: "access", sub: claims.userId, ...overrides })
    .setProtectedHeader({ alg: opts.alg ?? "HS256", typ: "JWT" })
    .setIssuer(opts.issuer ?? "kiln")
    .setAudience(opts.audience ?? "kiln-api")
    .setIssuedAt(now)
    .setExpirationTime(now + 60)
    .sign(opts.key ?? key);
}

async function rejection(token: string): Promise<string> {
  const err = await tokens.verify(token).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UnauthenticatedError);
  expect((err as UnauthenticatedError).status).toBe(401);
  return (err as UnauthenticatedError).code;
}

describe("opaqueToken and hashToken", () => {
  it("makes 256-bit base64url secrets behind the given prefix, never the same twice", () => {
    const token = opaqueToken(API_TOKEN_PREFIX);
    expect(token).toMatch(/^kiln_pat_[A-Za-z0-9_-]{43}$/);
    expect(opaqueToken()).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const many = new Set(Array.from({ length: 100 }, () => opaqueToken("kiln_rt_")));
    expect(many.size).toBe(100);
  });

  it("hashes with SHA-256 in base64url, deterministically", () => {
    // The FIPS 180-2 test vector for "abc".
    expect(hashToken("abc")).toBe(
      Buffer.from("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "hex").toString(
        "base64url",
      ),
    );
    const token = opaqueToken(API_TOKEN_PREFIX);
    expect(hashToken(token)).toBe(hashToken(token));
    expect(hashToken(token)).not.toBe(hashToken(`${token}x`));
    expect(hashToken(token)).not.toContain(token.slice(API_TOKEN_PREFIX.length));
  });
});

describe("AccessTokens", () => {
  it("signs an HS256 JWT that verifies back to the same user and session", async () => {
    const before = Date.now();
    const { token, expiresAt } = await tokens.sign(claims);
    expect(await tokens.verify(token)).toEqual(claims);
    expect(decodeProtectedHeader(token)).toEqual({ alg: "HS256", typ: "JWT" });
    const payload = decodeJwt(token);
    expect(payload).toMatchObject({
      sub: claims.userId,
      sid: claims.sessionId,
      typ: "access",
      iss: "kiln",
      aud: "kiln-api",
    });
    expect(payload.exp! - payload.iat!).toBe(900);
    expect(expiresAt.getTime()).toBe(payload.exp! * 1000);
    expect(expiresAt.getTime()).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 900_000);
  });

  it("reports a token past its expiry as token_expired, and one just inside it as valid", async () => {
    const short = new AccessTokens(key, 10);
    const expired = await short.sign(claims, Date.now() - 11_000);
    expect(expired.expiresAt.getTime()).toBeLessThan(Date.now());
    expect(await rejection(expired.token)).toBe("token_expired");
    const fresh = await short.sign(claims, Date.now() - 5_000);
    expect(await short.verify(fresh.token)).toEqual(claims);
  });

  it("refuses a token signed with another key", async () => {
    const { token } = await new AccessTokens(randomBytes(32), 900).sign(claims);
    expect(await rejection(token)).toBe("token_invalid");
  });

  it("refuses a token whose payload was edited after signing", async () => {
    const { token } = await tokens.sign(claims);
    const [header, , signature] = token.split(".");
    const payload = { ...decodeJwt(token), sub: randomUUID() };
    expect(await rejection(`${header}.${b64(payload)}.${signature}`)).toBe("token_invalid");
    const later = { ...decodeJwt(token), exp: (decodeJwt(token).exp ?? 0) + 86_400 };
    expect(await rejection(`${header}.${b64(later)}.${signature}`)).toBe("token_invalid");
  });

  it("refuses alg none, and HS512 even with the right key", async () => {
    const { token } = await tokens.sign(claims);
    const payload = token.split(".")[1];
    expect(await rejection(`${b64({ alg: "none", typ: "JWT" })}.${payload}.`)).toBe("token_invalid");
    expect(await rejection(`${b64({ alg: "none" })}.${payload}`)).toBe("token_invalid");
    expect(await rejection(await craft({}, { alg: "HS512", key: randomBytes(64) }))).toBe("token_invalid");
    // Only HS256 is allowed, so a token in another HMAC algorithm is refused even when the key is right.
    expect(await rejection(await craft({}, { alg: "HS384" }))).toBe("token_invalid");
  });

  it("refuses a correctly signed token with the wrong issuer, audience or type, or without its claims", async () => {
    expect(await tokens.verify(await craft({}))).toEqual(claims);
    expect(await rejection(await craft({}, { issuer: "someone-else" }))).toBe("token_invalid");
    expect(await rejection(await craft({}, { audience: "kiln-preview" }))).toBe("token_invalid");
    expect(await rejection(await craft({ typ: "refresh" }))).toBe("token_invalid");
    expect(await rejection(await craft({ typ: undefined }))).toBe("token_invalid");
    expect(await rejection(await craft({ sid: undefined }))).toBe("token_invalid");
    expect(await rejection(await craft({ sid: 42 }))).toBe("token_invalid");
    expect(await rejection(await craft({ sub: undefined }))).toBe("token_invalid");
  });

  it("refuses strings that are not JWTs at all", async () => {
    for (const garbage of ["", "garbage", "a.b.c", "...", "x".repeat(10_000), "kiln_pat_abc"]) {
      expect(await rejection(garbage), garbage.slice(0, 20)).toBe("token_invalid");
    }
  });
});
