import { describe, expect, it } from "vitest";
import { globToRegExp } from "./glob.ts";

describe("globToRegExp", () => {
  it.each([
    ["*.ts", "src/a.ts", true],
    ["*.ts", "a.ts", true],
    ["*.ts", "a.tsx", false],
    ["src/*.ts", "src/a.ts", true],
    ["src/*.ts", "src/x/a.ts", false],
    ["src/**/*.ts", "src/a.ts", true],
    ["src/**/*.ts", "src/x/y/a.ts", true],
    ["src/**", "src/x/y", true],
    ["**/test/*.js", "a/test/b.js", true],
    ["*.{ts,tsx}", "a/b.tsx", true],
    ["*.{ts,tsx}", "a/b.js", false],
    ["file?.txt", "file1.txt", true],
    ["file?.txt", "file10.txt", false],
    ["[ab].md", "a.md", true],
    ["[!ab].md", "a.md", false],
    ["a+b(c).txt", "a+b(c).txt", true],
    ["/src/a.ts", "src/a.ts", true],
  ])("%s against %s → %s", (glob, path, expected) => {
    expect(globToRegExp(glob).test(path)).toBe(expected);
  });

  it("stays fast on hostile patterns", () => {
    const regex = globToRegExp("**/**/**/**/**/**/x");
    expect(regex.test(`${"a/".repeat(40)}y`)).toBe(false);
  });
});
