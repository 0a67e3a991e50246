import { describe, expect, it } from "vitest";
import { LogBuffer } from "./log-buffer.ts";

describe("LogBuffer", () => {
  it("splits chunks into lines, keeps partial lines until their newline", () => {
    const log = new LogBuffer();
    log.write("stdout", "hel");
    log.write("stdout", "lo\nwor");
    log.write("stderr", "oops\r\n");
    log.write("stdout", "ld\n");
    expect(log.since().map((l) => [l.stream, l.text])).toEqual([
      ["stdout", "hello"],
      ["stderr", "oops"],
      ["stdout", "world"],
    ]);
  });

  it("is bounded in lines and line length, and strips terminal escapes", () => {
    const log = new LogBuffer(3);
    for (let i = 0; i < 10; i++) log.push("stdout", `line ${i}`);
    expect(log.tail(10)).toEqual(["line 7", "line 8", "line 9"]);
    log.push("stdout", "x".repeat(100_000));
    expect(log.tail(1)[0]!.length).toBe(4_000);
    log.write("stdout", "\u001b[32m  VITE ready\u001b[0m\n");
    expect(log.tail(1)).toEqual(["  VITE ready"]);
    log.write("stdout", "y".repeat(100_000));
    log.write("stdout", "\n");
    expect(log.tail(1)[0]!.length).toBeLessThanOrEqual(4_000);
  });

  it("resumes from a sequence number and notifies subscribers", () => {
    const log = new LogBuffer();
    log.push("system", "a");
    const seen: string[] = [];
    const off = log.subscribe((l) => seen.push(l.text));
    log.push("system", "b");
    off();
    log.push("system", "c");
    expect(seen).toEqual(["b"]);
    const first = log.since()[0]!.seq;
    expect(log.since(first).map((l) => l.text)).toEqual(["b", "c"]);
  });
});
