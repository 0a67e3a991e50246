import { describe, expect, it } from "vitest";
import { canonicalToolPath, parseWorkspacePath } from "./paths.ts";

describe("tool paths", () => {
  it("accepts the ways models spell the root and its files", () => {
    expect(canonicalToolPath(".")).toBe("");
    expect(canonicalToolPath("./")).toBe("");
    expect(canonicalToolPath("/workspace")).toBe("");
    expect(canonicalToolPath("/workspace/src/App.tsx")).toBe("src/App.tsx");
    expect(canonicalToolPath("././src")).toBe("src");
    expect(parseWorkspacePath("/workspace/src/a.ts")).toEqual(["src", "a.ts"]);
    expect(parseWorkspacePath(".", { allowRoot: true })).toEqual([]);
  });

  it("still refuses escapes and other absolute paths", () => {
    expect(() => parseWorkspacePath("/workspace/../etc/passwd")).toThrow(/inside the project/);
    expect(() => parseWorkspacePath("/etc/passwd")).toThrow(/relative/);
    expect(() => parseWorkspacePath("/workspacefoo/a")).toThrow(/relative/);
    expect(() => parseWorkspacePath("src/../../x")).toThrow(/inside the project/);
    expect(() => parseWorkspacePath("./.git/config")).toThrow(/\.git/);
  });
});
