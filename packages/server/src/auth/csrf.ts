import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

/**
 * Signed double-submit CSRF tokens. The token sits in a readable cookie and must come back in the
 * `x-csrf-token` header; it is also an HMAC over the session id, so a cookie planted by another origin
 * (a preview on a sibling subdomain, say) cannot be paired with a header the attacker chose.
 */
export class CsrfTokens {
  readonly #key: Buffer;

  constructor(key: Buffer) {
    this.#key = key;
  }

  issue(sessionId: string): string {
    const nonce = randomBytes(18).toString("base64url");
    return `${nonce}.${this.#mac(sessionId, nonce)}`;
  }

  verify(sessionId: string, cookie: string | undefined, header: string | undefined): boolean {
    if (!cookie || !header || cookie.length > 200 || header.length > 200) return false;
    if (!safeEqual(cookie, header)) return false;
    const [nonce, mac, ...rest] = header.split(".");
    if (!nonce || !mac || rest.length > 0) return false;
    return safeEqual(mac, this.#mac(sessionId, nonce));
  }

  #mac(sessionId: string, nonce: string): string {
    return createHmac("sha256", this.#key).update(`${sessionId}.${nonce}`).digest("base64url");
  }
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
