import { describe, expect, it } from "vitest";
import { providerName } from "./external.ts";
import { assetHash } from "./targets/cloudflare-pages.ts";

describe("a project's name on a provider", () => {
  it("is lowercase letters, digits and single hyphens, at most 58 characters, random at the end", () => {
    const long = providerName("a".repeat(39), "b".repeat(39));
    expect(long.length).toBeLessThanOrEqual(58);
    expect(long).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
    expect(providerName("shop", "acme")).toMatch(/^shop-acme-[0-9a-f]{6}$/);
    expect(providerName("shop", "acme")).not.toBe(providerName("shop", "acme"));
    expect(providerName("--", "--")).toMatch(/^kiln-[0-9a-f]{6}$/);
  });
});

describe("a Cloudflare Pages asset key", () => {
  it("is 32 hex digits of base64 content + extension: the same bytes under another extension differ", () => {
    const bytes = Buffer.from("body { color: red }");
    expect(assetHash(bytes, "a/style.css")).toMatch(/^[0-9a-f]{32}$/);
    expect(assetHash(bytes, "b/other.css")).toBe(assetHash(bytes, "a/style.css"));
    expect(assetHash(bytes, "a/style.txt")).not.toBe(assetHash(bytes, "a/style.css"));
  });
});
