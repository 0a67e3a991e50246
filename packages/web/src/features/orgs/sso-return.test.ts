import { describe, expect, it } from "vitest";
import { ssoReturnPath } from "./sso-return.ts";

describe("ssoReturnPath", () => {
  it("returns to the page of the org that was being opened, with its query and hash", () => {
    expect(ssoReturnPath("acme", "/acme")).toBe("/acme");
    expect(ssoReturnPath("acme", "/acme/shop?tab=files#x")).toBe("/acme/shop?tab=files#x");
    expect(ssoReturnPath("acme", "/acme/settings?tab=members")).toBe("/acme/settings?tab=members");
  });

  it("falls back to the org's home for anything else", () => {
    for (const href of [
      "/acme-corp/shop", // another org whose slug starts the same
      "/other/shop",
      "//evil.example/acme",
      "/\\evil.example",
      "/acme/\\evil",
      "https://evil.example/acme",
      "/acme/x\ny",
      "",
      "acme/shop",
    ]) {
      expect(ssoReturnPath("acme", href), JSON.stringify(href)).toBe("/acme");
    }
  });
});
