import { describe, expect, it } from "vitest";
import { basename, dirname, isWithin, join, languageOf, validName } from "./paths.ts";

describe("project paths", () => {
  it("splits and joins relative paths", () => {
    expect(basename("src/app/App.tsx")).toBe("App.tsx");
    expect(dirname("src/app/App.tsx")).toBe("src/app");
    expect(dirname("README.md")).toBe("");
    expect(join("", "a.ts")).toBe("a.ts");
    expect(join("src", "a.ts")).toBe("src/a.ts");
  });

  it("knows a folder's contents from a sibling with the same prefix", () => {
    expect(isWithin("src/a.ts", "src")).toBe(true);
    expect(isWithin("src", "src")).toBe(true);
    expect(isWithin("src2/a.ts", "src")).toBe(false);
  });

  it("refuses names that would climb out or are empty", () => {
    for (const bad of ["", "  ", "..", "a/../b", "/abs", "dir/", "a//b", "./x"]) {
      expect(validName(bad), JSON.stringify(bad)).toBeDefined();
    }
    for (const good of ["a.ts", "components/Button.tsx", ".env.example"])
      expect(validName(good)).toBeUndefined();
  });

  it("picks Monaco languages by extension", () => {
    expect(languageOf("src/App.tsx")).toBe("typescript");
    expect(languageOf("index.html")).toBe("html");
    expect(languageOf("Dockerfile")).toBe("dockerfile");
    expect(languageOf("LICENSE")).toBe("plaintext");
  });
});
