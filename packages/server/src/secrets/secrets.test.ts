import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { decodeKey, KEY_FILE, loadMasterKey } from "./master-key.ts";
import { DecryptionError, deriveKey, SecretBox } from "./secret-box.ts";

const dirs: string[] = [];
async function tempDir() {
  const dir = await mkdtemp(path.join(os.tmpdir(), "kiln-secrets-"));
  dirs.push(dir);
  return dir;
}
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

describe("SecretBox", () => {
  const box = new SecretBox(randomBytes(32));

  it("round-trips text, including unicode and empty strings", () => {
    for (const text of ["sk-live-123", "", "ключ 🔑", "x".repeat(100_000)]) {
      const sealed = box.encrypt(text, "org:1:provider:openai");
      expect(sealed).not.toContain(text || "\u0000");
      expect(box.decrypt(sealed, "org:1:provider:openai")).toBe(text);
    }
  });

  it("uses a fresh IV each time", () => {
    expect(box.encrypt("same")).not.toBe(box.encrypt("same"));
  });

  it("refuses tampered ciphertext, a wrong context and a wrong key", () => {
    const sealed = box.encrypt("secret", "ctx-a");
    const parts = sealed.split(".");
    const body = Buffer.from(parts[3]!, "base64url");
    body[0] = body[0]! ^ 1;
    const tampered = [parts[0], parts[1], parts[2], body.toString("base64url")].join(".");
    expect(() => box.decrypt(tampered, "ctx-a")).toThrow(DecryptionError);
    expect(() => box.decrypt(sealed, "ctx-b")).toThrow(DecryptionError);
    expect(() => new SecretBox(randomBytes(32)).decrypt(sealed, "ctx-a")).toThrow(DecryptionError);
    for (const garbage of ["", "v1", "v2.a.b.c", "v1.a.b.c", "v1..."]) {
      expect(() => box.decrypt(garbage)).toThrow(DecryptionError);
    }
  });

  it("derives distinct keys per purpose", () => {
    const master = randomBytes(32);
    expect(deriveKey(master, "jwt").equals(deriveKey(master, "csrf"))).toBe(false);
    expect(deriveKey(master, "jwt").equals(deriveKey(master, "jwt"))).toBe(true);
  });
});

describe("master key", () => {
  it("is generated once into the data dir with mode 0600 and reused", async () => {
    const dir = await tempDir();
    const first = await loadMasterKey(dir, undefined);
    expect(first.length).toBe(32);
    expect((await stat(path.join(dir, KEY_FILE))).mode & 0o777).toBe(0o600);
    const again = await loadMasterKey(dir, undefined);
    expect(again.equals(first)).toBe(true);
  });

  it("survives several starters racing to create it: one key, never a half-written file", async () => {
    // An earlier version created the file and then wrote it; a racer could read it empty in between.
    for (let round = 0; round < 20; round++) {
      const dir = await tempDir();
      const keys = await Promise.all(Array.from({ length: 6 }, () => loadMasterKey(dir, undefined)));
      for (const k of keys) expect(k.equals(keys[0]!)).toBe(true);
      const stored = decodeKey(await readFile(path.join(dir, KEY_FILE), "utf8"), "file");
      expect(stored.equals(keys[0]!)).toBe(true);
      expect((await readdir(dir)).filter((f) => f.endsWith(".tmp"))).toEqual([]);
    }
  });

  it("prefers KILN_SECRET_KEY in base64 or hex, and rejects keys of the wrong size", async () => {
    const dir = await tempDir();
    const key = randomBytes(32);
    expect((await loadMasterKey(dir, key.toString("base64"))).equals(key)).toBe(true);
    expect((await loadMasterKey(dir, key.toString("hex"))).equals(key)).toBe(true);
    await expect(loadMasterKey(dir, "too-short")).rejects.toThrow(/32 bytes/);
  });

  it("refuses a corrupt key file instead of silently replacing it", async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, KEY_FILE), "garbage", { mode: 0o600 });
    await expect(loadMasterKey(dir, undefined)).rejects.toThrow(/32 bytes/);
  });
});
