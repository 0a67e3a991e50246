import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * How a delivery is signed (documented for receivers in docs/webhooks.md): the header
 * `Kiln-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`. The timestamp is
 * inside the MAC, so a receiver that refuses old timestamps refuses replays.
 */
export const SIGNATURE_HEADER = "kiln-signature";

export function signatureHeader(secret: string, body: string, at: Date = new Date()): string {
  const t = Math.floor(at.getTime() / 1000);
  return `t=${t},v1=${mac(secret, t, body)}`;
}

/**
 * A receiver's check: the header parses, a v1 MAC matches and the timestamp is within `toleranceSeconds`
 * of `now`. Kiln's own tests receive with it; it is the reference for docs/webhooks.md.
 */
export function verifySignature(
  secret: string,
  body: string,
  header: string | undefined,
  options: { now?: Date; toleranceSeconds?: number } = {},
): boolean {
  if (!header || header.length > 1000) return false;
  const parts = header.split(",").map((p) => p.trim().split("="));
  const t = Number(parts.find(([k]) => k === "t")?.[1]);
  if (!Number.isSafeInteger(t)) return false;
  const now = (options.now ?? new Date()).getTime() / 1000;
  if (Math.abs(now - t) > (options.toleranceSeconds ?? 300)) return false;
  const expected = Buffer.from(mac(secret, t, body), "hex");
  return parts.some(([k, v]) => {
    if (k !== "v1" || !v || !/^[0-9a-f]{64}$/.test(v)) return false;
    return timingSafeEqual(Buffer.from(v, "hex"), expected);
  });
}

function mac(secret: string, t: number, body: string): string {
  return createHmac("sha256", secret).update(`${t}.${body}`).digest("hex");
}
