import { describe, expect, it } from "vitest";
import { buildLog } from "./build-log.ts";

describe("buildLog", () => {
  it("keeps lines and output in order", () => {
    const log = buildLog(1000);
    log.line("$ npm run build");
    log.output("built\n", "warning");
    expect(log.text()).toBe("$ npm run build\nbuilt\nwarning\n");
  });

  it("keeps the head and the tail of a long one, within its bytes", () => {
    const log = buildLog(100);
    log.line("start");
    log.output("x".repeat(1000), "");
    log.line("the end");
    const text = log.text();
    expect(text.startsWith("start\n")).toBe(true);
    expect(text.endsWith("the end\n")).toBe(true);
    expect(text).toContain("bytes left out");
    expect(Buffer.byteLength(text)).toBeLessThan(160);
  });
});
