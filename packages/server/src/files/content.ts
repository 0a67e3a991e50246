import { createHash } from "node:crypto";

const decoder = new TextDecoder("utf-8", { fatal: true });

/** The text of `bytes` if it is UTF-8 without NUL (how git and editors tell text from binary), else undefined. */
export function asText(bytes: Buffer): string | undefined {
  if (bytes.includes(0)) return undefined;
  try {
    return decoder.decode(bytes);
  } catch {
    return undefined;
  }
}

export function versionOf(bytes: Buffer): string {
  return createHash("sha256").update(bytes).digest("hex");
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Strict base64: Buffer.from(…, "base64") silently skips garbage, which would store a different file. */
export function decodeBase64(text: string): Buffer | undefined {
  if (text.length % 4 !== 0 || !BASE64.test(text)) return undefined;
  return Buffer.from(text, "base64");
}
