import { describe, expect, it } from "vitest";
import { OutputCapture } from "./output.ts";

describe("OutputCapture", () => {
  it("keeps short output whole", () => {
    const c = new OutputCapture(100);
    c.push(Buffer.from("hello "));
    c.push(Buffer.from("world"));
    expect(c.truncated).toBe(false);
    expect(c.text()).toBe("hello world");
  });

  it("keeps the head and the tail of long output, across chunk boundaries", () => {
    const c = new OutputCapture(10);
    for (const part of ["abc", "def", "ghi", "jkl", "mno", "pqr", "stu"]) c.push(Buffer.from(part));
    expect(c.truncated).toBe(true);
    expect(c.text()).toBe("abcde\n… [11 bytes omitted] …\nqrstu");
  });

  it("is exact at the limit", () => {
    const c = new OutputCapture(10);
    c.push(Buffer.from("0123456789"));
    expect(c.truncated).toBe(false);
    expect(c.text()).toBe("0123456789");
  });
});
