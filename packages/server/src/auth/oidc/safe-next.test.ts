import { describe, expect, it } from "vitest";
import { safeNext } from "./routes.ts";

describe("where a sign-in may land", () => {
  it("keeps a path of the studio, and refuses anything that could leave it", () => {
    expect(safeNext("/acme/shop?tab=files#x")).toBe("/acme/shop?tab=files#x");
    for (const next of [
      undefined,
      "",
      "acme",
      "//evil.example/",
      "/\\evil.example",
      "https://evil.example/",
      "javascript:alert(1)",
      "/ok\nLocation: https://evil.example",
      "/tab\tname",
    ]) {
      expect(safeNext(next), JSON.stringify(next)).toBeNull();
    }
  });
});
