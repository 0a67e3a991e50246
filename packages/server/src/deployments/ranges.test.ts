import { describe, expect, it } from "vitest";
import { planRange } from "./ranges.ts";

describe("planRange", () => {
  it("honours a single range in each of its three forms", () => {
    expect(planRange("bytes=0-9", 100)).toEqual({ kind: "partial", start: 0, end: 9 });
    expect(planRange("bytes=90-", 100)).toEqual({ kind: "partial", start: 90, end: 99 });
    expect(planRange("bytes=-10", 100)).toEqual({ kind: "partial", start: 90, end: 99 });
    expect(planRange(" Bytes = 5 - 5 ", 100)).toEqual({ kind: "partial", start: 5, end: 5 });
  });

  it("clamps an end past the file and a suffix longer than it", () => {
    expect(planRange("bytes=50-1000", 100)).toEqual({ kind: "partial", start: 50, end: 99 });
    expect(planRange("bytes=-1000", 100)).toEqual({ kind: "partial", start: 0, end: 99 });
  });

  it("calls a range that starts past the end, an empty suffix or any range of an empty file unsatisfiable", () => {
    expect(planRange("bytes=100-", 100)).toEqual({ kind: "unsatisfiable" });
    expect(planRange("bytes=100-200", 100)).toEqual({ kind: "unsatisfiable" });
    expect(planRange("bytes=-0", 100)).toEqual({ kind: "unsatisfiable" });
    expect(planRange("bytes=0-", 0)).toEqual({ kind: "unsatisfiable" });
  });

  it("ignores what it does not honour: no header, several ranges, other units, nonsense", () => {
    for (const header of [
      undefined,
      "bytes=0-1,5-6",
      "items=0-1",
      "bytes=",
      "bytes=-",
      "bytes=9-3",
      "bytes=a-b",
      "bytes=0x10-",
      "bytes=-1-2",
    ]) {
      expect(planRange(header, 100), String(header)).toEqual({ kind: "full" });
    }
  });
});
