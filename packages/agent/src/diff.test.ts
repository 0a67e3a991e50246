import { describe, expect, it } from "vitest";
import { unifiedDiff } from "./diff.ts";

describe("unifiedDiff", () => {
  it("is empty for equal texts and shows a new file as all additions", () => {
    expect(unifiedDiff("a", "x\n", "x\n")).toBe("");
    expect(unifiedDiff("a", "", "x\ny\n")).toBe("--- a/a\n+++ b/a\n@@ -0,0 +1,2 @@\n+x\n+y\n");
  });

  it("keeps three lines of context and splits distant changes into hunks", () => {
    const before = Array.from({ length: 20 }, (_, i) => `l${i + 1}`).join("\n");
    const after = before.replace("l2\n", "L2\n").replace("l18", "L18");
    const diff = unifiedDiff("f", before, after);
    expect(diff).toContain("@@ -1,5 +1,5 @@\n l1\n-l2\n+L2\n l3\n l4\n l5\n");
    expect(diff).toContain("@@ -15,6 +15,6 @@\n l15\n l16\n l17\n-l18\n+L18\n l19\n l20\n");
  });

  it("does not blow up on large rewrites", () => {
    const before = Array.from({ length: 5000 }, (_, i) => `a${i}`).join("\n");
    const after = Array.from({ length: 5000 }, (_, i) => `b${i}`).join("\n");
    expect(unifiedDiff("big", before, after).split("\n").length).toBeGreaterThan(10_000);
  });
});
