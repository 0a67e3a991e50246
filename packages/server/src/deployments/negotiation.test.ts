import { describe, expect, it } from "vitest";
import { ifRangeHolds, noneMatchHits, pickEncoding } from "./negotiation.ts";

describe("pickEncoding", () => {
  it("prefers brotli, then gzip, whatever order or weights the client lists them in", () => {
    expect(pickEncoding("gzip, deflate, br")).toBe("br");
    expect(pickEncoding("gzip;q=1.0, br;q=0.1")).toBe("br");
    expect(pickEncoding("gzip, deflate")).toBe("gzip");
    expect(pickEncoding("GZIP")).toBe("gzip");
  });

  it("respects q=0 and the wildcard", () => {
    expect(pickEncoding("br;q=0, gzip")).toBe("gzip");
    expect(pickEncoding("br; q=0.0, gzip;q=0")).toBeUndefined();
    expect(pickEncoding("*")).toBe("br");
    expect(pickEncoding("*;q=0, gzip")).toBe("gzip");
    expect(pickEncoding("br;q=0, *")).toBe("gzip");
  });

  it("compresses nothing for a client that names nothing it takes", () => {
    expect(pickEncoding(undefined)).toBeUndefined();
    expect(pickEncoding("")).toBeUndefined();
    expect(pickEncoding("identity")).toBeUndefined();
    expect(pickEncoding("deflate, zstd")).toBeUndefined();
    expect(pickEncoding("br;q=nonsense")).toBeUndefined();
  });
});

describe("noneMatchHits", () => {
  const tag = '"abc"';
  it("matches the tag alone, in a list, weakly prefixed, or by *", () => {
    expect(noneMatchHits('"abc"', tag)).toBe(true);
    expect(noneMatchHits('"x", "abc" ,"y"', tag)).toBe(true);
    expect(noneMatchHits('W/"abc"', tag)).toBe(true);
    expect(noneMatchHits(" * ", tag)).toBe(true);
  });

  it("does not match another tag, the compressed one, or nothing", () => {
    expect(noneMatchHits('"abd"', tag)).toBe(false);
    expect(noneMatchHits('"abc-br"', tag)).toBe(false);
    expect(noneMatchHits("abc", tag)).toBe(false);
    expect(noneMatchHits(undefined, tag)).toBe(false);
    expect(noneMatchHits("", tag)).toBe(false);
  });
});

describe("ifRangeHolds", () => {
  it("holds without the header or for the same strong tag only", () => {
    expect(ifRangeHolds(undefined, '"abc"')).toBe(true);
    expect(ifRangeHolds('"abc"', '"abc"')).toBe(true);
    expect(ifRangeHolds('W/"abc"', '"abc"')).toBe(false);
    expect(ifRangeHolds('"old"', '"abc"')).toBe(false);
    expect(ifRangeHolds("Wed, 21 Oct 2015 07:28:00 GMT", '"abc"')).toBe(false);
  });
});
