import { hostOnlyCookie } from "@kiln/protocol";
import type { FastifyReply } from "fastify";
import { z } from "zod";
import type { SecretBox } from "../../secrets/secret-box.ts";

/** A sign-in that takes longer than this at the provider starts over. */
export const FLOW_TTL_MS = 10 * 60_000;

const COOKIE = "kiln_oidc";
const CONTEXT = "oidc-flow";

/**
 * What a sign-in started in this browser must find when the provider sends it back: the state and nonce
 * it sent, the PKCE verifier, where to go after, and — when linking — the account it links to. Kept in the
 * browser, sealed (AES-GCM, so neither readable nor forgeable), so no server row is needed and another
 * browser's callback cannot use it.
 */
const Flow = z.object({
  provider: z.string(),
  state: z.string(),
  nonce: z.string(),
  verifier: z.string(),
  next: z.string().nullable(),
  linkUserId: z.string().nullable(),
  expiresAt: z.number(),
});
export type Flow = z.infer<typeof Flow>;

export class FlowCookie {
  readonly #secrets: SecretBox;
  readonly #secure: boolean;

  constructor(secrets: SecretBox, secure: boolean) {
    this.#secrets = secrets;
    this.#secure = secure;
  }

  /** Over https a `__Host-` cookie: no sibling subdomain (a preview) can plant one (login CSRF). */
  get name(): string {
    return this.#secure ? hostOnlyCookie(COOKIE) : COOKIE;
  }

  set(reply: FastifyReply, flow: Flow): void {
    reply.setCookie(this.name, this.#secrets.encrypt(JSON.stringify(flow), CONTEXT), {
      httpOnly: true,
      // Lax: the provider's redirect back is a top-level GET, which carries it.
      sameSite: "lax",
      secure: this.#secure,
      path: this.#secure ? "/" : "/api/auth/oidc",
      maxAge: FLOW_TTL_MS / 1000,
    });
  }

  clear(reply: FastifyReply): void {
    reply.clearCookie(this.name, {
      httpOnly: true,
      sameSite: "lax",
      secure: this.#secure,
      path: this.#secure ? "/" : "/api/auth/oidc",
    });
  }

  /** The flow this browser started, or undefined when there is none, it was tampered with, or it expired. */
  read(value: string | undefined): Flow | undefined {
    if (!value || value.length > 4000) return undefined;
    try {
      const flow = Flow.parse(JSON.parse(this.#secrets.decrypt(value, CONTEXT)));
      return flow.expiresAt > Date.now() ? flow : undefined;
    } catch {
      return undefined;
    }
  }
}
