import { describe, expect, it } from "vitest";
import { parseChoice, resolveTheme } from "./theme.ts";

describe("theme", () => {
  it("follows the system on System, and the choice otherwise", () => {
    expect(resolveTheme("system", true)).toBe("light");
    expect(resolveTheme("system", false)).toBe("dark");
    expect(resolveTheme("light", false)).toBe("light");
    expect(resolveTheme("dark", true)).toBe("dark");
  });

  it("reads anything but light or dark as System", () => {
    expect(parseChoice("light")).toBe("light");
    expect(parseChoice("dark")).toBe("dark");
    for (const value of [null, undefined, "", "system", "LIGHT", "blue"])
      expect(parseChoice(value)).toBe("system");
  });
});
