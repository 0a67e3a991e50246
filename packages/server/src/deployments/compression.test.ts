import { randomUUID } from "node:crypto";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { compressedBlob } from "./compression.ts";

const text = Buffer.from("hello published world\n".repeat(200));

describe("compressedBlob", () => {
  it("compresses once for concurrent first requests and then answers from memory", async () => {
    const digest = randomUUID();
    let reads = 0;
    const read = async () => {
      reads++;
      return text;
    };
    const [a, b] = await Promise.all([
      compressedBlob(digest, "br", read),
      compressedBlob(digest, "br", read),
    ]);
    expect(a).toBe(b);
    expect(brotliDecompressSync(a as Buffer).equals(text)).toBe(true);
    expect(await compressedBlob(digest, "br", read)).toBe(a);
    expect(reads).toBe(1);
    const gz = await compressedBlob(digest, "gzip", read);
    expect(gunzipSync(gz as Buffer).equals(text)).toBe(true);
    expect(reads).toBe(2);
  });

  it("passes on a blob that cannot be read without remembering it", async () => {
    const digest = randomUUID();
    expect(await compressedBlob(digest, "gzip", async () => undefined)).toBeUndefined();
    expect(await compressedBlob(digest, "gzip", async () => text)).toBeDefined();
  });
});
