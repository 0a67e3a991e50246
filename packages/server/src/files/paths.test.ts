import { describe, expect, it } from "vitest";
import { globToRegExp, isInside, isReserved, PathError, parsePath, segmentsBelow } from "./paths.ts";

describe("parsePath", () => {
  it.each([
    ["a", ["a"]],
    ["src/main.ts", ["src", "main.ts"]],
    [".env", [".env"]],
    ["a/.hidden/b c.txt", ["a", ".hidden", "b c.txt"]],
    ["名前/😀.md", ["名前", "😀.md"]],
    // Not decoded: a literal (odd) name, which stays inside the project.
    ["%2e%2e/x", ["%2e%2e", "x"]],
    ["..%2fetc", ["..%2fetc"]],
    ["a..b", ["a..b"]],
    ["..a", ["..a"]],
  ])("accepts %j", (input, segments) => {
    expect(parsePath(input)).toEqual(segments);
  });

  it.each([
    ["", "root"],
    ["/etc/passwd", "absolute"],
    ["//etc", "absolute"],
    ["..", "dot-dot"],
    ["../x", "dot-dot"],
    ["a/../../x", "dot-dot inside"],
    ["a/..", "trailing dot-dot"],
    ["./a", "dot"],
    ["a/./b", "dot inside"],
    ["a//b", "empty segment"],
    ["a/", "trailing slash"],
    ["a\\b", "backslash"],
    ["..\\..\\x", "backslash traversal"],
    ["a\u0000b", "NUL"],
    ["a\nb", "newline"],
    ["a\u007fb", "DEL"],
    ["\uff0e\uff0e/x", "fullwidth dots"],
    ["\u2024\u2024/x", "one-dot leaders"],
    ["\u2025", "two-dot leader"],
    ["a\uff0fb", "fullwidth solidus"],
    ["...", "only dots"],
    ["lone\ud800", "lone surrogate"],
    ["x".repeat(1025), "too long"],
    [`${"x".repeat(256)}/a`, "segment too long"],
  ])("refuses %j (%s)", (input) => {
    expect(() => parsePath(input)).toThrow(PathError);
    try {
      parsePath(input);
    } catch (err) {
      expect((err as PathError).code).toBe("path_invalid");
      expect((err as PathError).status).toBe(400);
    }
  });

  it("accepts the root only where asked", () => {
    expect(parsePath("", { allowRoot: true })).toEqual([]);
    expect(() => parsePath("")).toThrow(PathError);
  });

  it("accepts a path of exactly the maximum length", () => {
    const max = Array.from({ length: 8 }, () => "y".repeat(127)).join("/");
    expect(max.length).toBe(1023);
    expect(parsePath(`${max}z`)).toHaveLength(8);
  });
});

describe("isReserved", () => {
  it.each([
    [[".git"], true],
    [[".git", "config"], true],
    [["sub", ".git", "hooks", "pre-commit"], true],
    [[".GIT", "config"], true],
    [[".Git"], true],
    [[".gitignore"], false],
    [[".github", "workflows"], false],
    [["git"], false],
  ])("%j → %s", (segments, reserved) => {
    expect(isReserved(segments)).toBe(reserved);
  });
});

describe("isInside", () => {
  it.each([
    ["/p", "/p", true],
    ["/p", "/p/a", true],
    ["/p", "/p/a/b", true],
    ["/p", "/p/..a", true],
    ["/p", "/", false],
    ["/p", "/pp", false],
    ["/p", "/p2/a", false],
    ["/p", "/etc/passwd", false],
    ["/data/orgs/o/projects/x", "/data/orgs/o/projects/y/file", false],
  ])("%s contains %s: %s", (root, candidate, inside) => {
    expect(isInside(root, candidate)).toBe(inside);
  });

  it("splits a contained path back into segments", () => {
    expect(segmentsBelow("/p", "/p")).toEqual([]);
    expect(segmentsBelow("/p", "/p/a/b")).toEqual(["a", "b"]);
  });
});

describe("globToRegExp", () => {
  it("matches * and ? and nothing else specially", () => {
    expect(globToRegExp("*.ts", false).test("main.ts")).toBe(true);
    expect(globToRegExp("*.ts", false).test("main.tsx")).toBe(false);
    expect(globToRegExp("a?c", false).test("abc")).toBe(true);
    expect(globToRegExp("a.c", false).test("abc")).toBe(false);
    expect(globToRegExp("(x)+[y]", false).test("(x)+[y]")).toBe(true);
    expect(globToRegExp("README*", false).test("readme.md")).toBe(true);
    expect(globToRegExp("README*", true).test("readme.md")).toBe(false);
  });
});
