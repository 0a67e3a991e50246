import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";

const VERSION = "v1";
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class DecryptionError extends Error {
  constructor(message = "secret could not be decrypted (wrong key or tampered data)") {
    super(message);
    this.name = "DecryptionError";
  }
}

/** Derives independent keys for independent purposes, so one leaked subkey reveals nothing else. */
export function deriveKey(master: Buffer, purpose: string, bytes = 32): Buffer {
  return Buffer.from(hkdfSync("sha256", master, Buffer.alloc(0), `kiln:${purpose}`, bytes));
}

/**
 * AES-256-GCM for credentials at rest (provider keys, git tokens). Output: `v1.<iv>.<tag>.<ciphertext>`
 * in base64url. `context` (e.g. "org:<id>:provider:openai") is bound as associated data, so a ciphertext
 * copied to another row does not decrypt there.
 */
export class SecretBox {
  readonly #key: Buffer;

  constructor(master: Buffer) {
    this.#key = deriveKey(master, "secret-box");
  }

  encrypt(plaintext: string, context = ""): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.#key, iv);
    cipher.setAAD(Buffer.from(context, "utf8"));
    const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [VERSION, iv, tag, body]
      .map((p) => (typeof p === "string" ? p : p.toString("base64url")))
      .join(".");
  }

  decrypt(sealed: string, context = ""): string {
    const parts = sealed.split(".");
    if (parts.length !== 4 || parts[0] !== VERSION) throw new DecryptionError("not a sealed secret");
    const [iv, tag, body] = parts.slice(1).map((p) => Buffer.from(p, "base64url")) as [
      Buffer,
      Buffer,
      Buffer,
    ];
    if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new DecryptionError("not a sealed secret");
    try {
      const decipher = createDecipheriv("aes-256-gcm", this.#key, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(context, "utf8"));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(body), decipher.final()]).toString("utf8");
    } catch {
      throw new DecryptionError();
    }
  }
}
