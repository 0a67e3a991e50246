import { randomUUID } from "node:crypto";
import { jwtVerify, SignJWT } from "jose";

export const PREVIEW_COOKIE = "kiln_preview";
/**
 * The same session for the studio's preview iframe. The studio (`localhost`) and a preview
 * (`<p>--<o>.localhost`) are different sites, so the Lax cookie is neither stored nor sent inside the
 * iframe; browsers keep a `SameSite=None; Secure; Partitioned` (CHIPS) cookie there, partitioned under the
 * studio's site (`Secure` is honoured on http://*.localhost and on https).
 */
export const PREVIEW_EMBED_COOKIE = "kiln_preview_embed";

export interface PreviewGrant {
  userId: string;
  orgId: string;
  projectId: string;
}

/** A verified grant and the token's own id and expiry, by which a hand-off is used only once. */
export interface VerifiedGrant extends PreviewGrant {
  tokenId: string | undefined;
  expiresAt: Date;
}

/**
 * Preview sessions. The studio cannot set a cookie on the preview origin, so it asks the API for a
 * one-minute hand-off token, sends the browser to `<preview>/__kiln/auth?token=…`, and the preview origin
 * exchanges it — once (preview/handoffs.ts) — for its own HTTP-only cookie, scoped to that one project.
 * Membership is still re-checked on every request, so removing a member ends their preview access too.
 */
export class PreviewTokens {
  readonly #key: Uint8Array;
  readonly cookieTtlSeconds: number;

  constructor(key: Uint8Array, cookieTtlSeconds = 12 * 3600) {
    this.#key = key;
    this.cookieTtlSeconds = cookieTtlSeconds;
  }

  handoff(grant: PreviewGrant): Promise<string> {
    return this.#sign(grant, "preview-handoff", 60);
  }

  session(grant: PreviewGrant): Promise<string> {
    return this.#sign(grant, "preview-session", this.cookieTtlSeconds);
  }

  /** The grant in a token of the given kind for exactly this project, or undefined. */
  async verify(
    token: string | undefined,
    kind: "preview-handoff" | "preview-session",
    project: { orgId: string; projectId: string },
  ): Promise<VerifiedGrant | undefined> {
    if (!token || token.length > 2000) return undefined;
    try {
      const { payload } = await jwtVerify(token, this.#key, {
        algorithms: ["HS256"],
        issuer: "kiln",
        audience: `${kind}:${project.orgId}:${project.projectId}`,
      });
      if (typeof payload.sub !== "string" || typeof payload.exp !== "number") return undefined;
      return {
        userId: payload.sub,
        orgId: project.orgId,
        projectId: project.projectId,
        tokenId: typeof payload.jti === "string" ? payload.jti : undefined,
        expiresAt: new Date(payload.exp * 1000),
      };
    } catch {
      return undefined;
    }
  }

  #sign(grant: PreviewGrant, kind: string, ttlSeconds: number): Promise<string> {
    return new SignJWT({})
      .setProtectedHeader({ alg: "HS256" })
      .setSubject(grant.userId)
      .setIssuer("kiln")
      .setAudience(`${kind}:${grant.orgId}:${grant.projectId}`)
      .setJti(randomUUID())
      .setIssuedAt()
      .setExpirationTime(`${ttlSeconds}s`)
      .sign(this.#key);
  }
}
