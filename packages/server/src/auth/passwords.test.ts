import { describe, expect, it } from "vitest";
import { hashPassword, verifyPassword } from "./passwords.ts";

describe("passwords", () => {
  it("hashes with argon2id at 19 MiB, t=2, p=1 and a random salt", async () => {
    const a = await hashPassword("correct horse battery");
    const b = await hashPassword("correct horse battery");
    expect(a).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(a).not.toBe(b);
    expect(a).not.toContain("correct horse battery");
  });

  it("verifies the right password and refuses a wrong one", async () => {
    const stored = await hashPassword("correct horse battery");
    expect(await verifyPassword(stored, "correct horse battery")).toBe(true);
    expect(await verifyPassword(stored, "correct horse batter")).toBe(false);
    expect(await verifyPassword(stored, "Correct horse battery")).toBe(false);
    expect(await verifyPassword(stored, "correct horse battery ")).toBe(false);
    expect(await verifyPassword(stored, "")).toBe(false);
  });

  it("round-trips unicode, NUL and maximum-length passwords byte for byte", async () => {
    for (const password of ["пароль-🔑-密码", "a\u0000b-padding", "x".repeat(256)]) {
      const stored = await hashPassword(password);
      expect(await verifyPassword(stored, password), password).toBe(true);
    }
    // NFC and NFD spell the same text with different bytes; they are different passwords.
    const stored = await hashPassword("caf\u00e9-latte");
    expect(await verifyPassword(stored, "cafe\u0301-latte")).toBe(false);
    // A NUL must not truncate the password: what comes after it counts.
    const withNul = await hashPassword("prefix\u0000suffix-1");
    expect(await verifyPassword(withNul, "prefix\u0000suffix-2")).toBe(false);
    expect(await verifyPassword(withNul, "prefix")).toBe(false);
  });

  it("never accepts anything for a user that does not exist, not even the dummy password", async () => {
    expect(await verifyPassword(undefined, "anything at all")).toBe(false);
    expect(await verifyPassword(undefined, "kiln-dummy-password")).toBe(false);
    expect(await verifyPassword(undefined, "")).toBe(false);
  });

  it("answers false, not an exception, for a stored value that is not a hash", async () => {
    for (const stored of [
      "",
      "plaintext",
      "$argon2id$v=19$m=19456,t=2,p=1$broken",
      "$2b$10$abcdefghijklmnopqrstuv",
    ]) {
      await expect(verifyPassword(stored, "plaintext"), stored).resolves.toBe(false);
    }
  });
});
