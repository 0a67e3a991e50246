import { describe, expect, it } from "vitest";
import { fuzzyScore } from "./fuzzy.ts";

describe("fuzzyScore", () => {
  it("matches characters in order, anywhere", () => {
    expect(fuzzyScore("apx", "src/App.tsx")).toBeGreaterThan(0);
    expect(fuzzyScore("xpa", "src/App.tsx")).toBe(-1);
  });

  it("ranks a file-name match above a folder-name match", () => {
    const paths = ["app/index.ts", "src/app.ts", "lib/apple/main.ts"];
    const ranked = [...paths].sort((a, b) => fuzzyScore("app", b) - fuzzyScore("app", a));
    expect(ranked[0]).toBe("src/app.ts");
  });

  it("ignores case", () => {
    expect(fuzzyScore("READ", "README.md")).toBe(fuzzyScore("read", "readme.md"));
  });
});
