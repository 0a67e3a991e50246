import { describe, expect, it } from "vitest";
import { Scrollback } from "./scrollback.ts";

describe("Scrollback", () => {
  it("keeps everything under the limit", () => {
    const s = new Scrollback(10);
    s.push("abc");
    s.push("def");
    expect(s.text()).toBe("abcdef");
  });

  it("keeps only the last `limit` characters", () => {
    const s = new Scrollback(10);
    for (const part of ["0123456789", "abcdef", "XYZ"]) s.push(part);
    expect(s.text()).toBe("789abcdefXYZ".slice(-10));
    s.push("z".repeat(25));
    expect(s.text()).toBe("z".repeat(10));
  });
});
