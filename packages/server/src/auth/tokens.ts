import { createHash, randomBytes } from "node:crypto";
import { errors, jwtVerify, SignJWT } from "jose";
import { UnauthenticatedError } from "../errors/errors.ts";

export const API_TOKEN_PREFIX = "kiln_pat_";

/** A random secret for refresh tokens, API tokens and invitation links. Only its hash is stored. */
export function opaqueToken(prefix = ""): string {
  return `${prefix}${randomBytes(32).toString("base64url")}`;
}

export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("base64url");
}

export interface AccessClaims {
  userId: string;
  sessionId: string;
}

const ISSUER = "kiln";
const AUDIENCE = "kiln-api";

export class AccessTokens {
  readonly #key: Uint8Array;
  readonly ttlSeconds: number;

  constructor(key: Uint8Array, ttlSeconds: number) {
    this.#key = key;
    this.ttlSeconds = ttlSeconds;
  }

  async sign(claims: AccessClaims, now = Date.now()): Promise<{ token: string; expiresAt: Date }> {
    const iat = Math.floor(now / 1000);
    const exp = iat + this.ttlSeconds;
    const token = await new SignJWT({ sid: claims.sessionId, typ: "access" })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setSubject(claims.userId)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .sign(this.#key);
    return { token, expiresAt: new Date(exp * 1000) };
  }

  async verify(token: string): Promise<AccessClaims> {
    try {
      const { payload } = await jwtVerify(token, this.#key, {
        issuer: ISSUER,
        audience: AUDIENCE,
        algorithms: ["HS256"],
      });
      if (payload.typ !== "access" || typeof payload.sub !== "string" || typeof payload.sid !== "string") {
        throw new UnauthenticatedError("token_invalid", "access token is malformed");
      }
      return { userId: payload.sub, sessionId: payload.sid };
    } catch (err) {
      if (err instanceof UnauthenticatedError) throw err;
      if (err instanceof errors.JWTExpired)
        throw new UnauthenticatedError("token_expired", "access token expired");
      throw new UnauthenticatedError("token_invalid", "access token is invalid");
    }
  }
}
