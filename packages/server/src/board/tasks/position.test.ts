import { describe, expect, it } from "vitest";
import { isPositionKey, keyBetween } from "./position.ts";

const between = (a: string | null, b: string | null) => {
  const key = keyBetween(a, b);
  expect(isPositionKey(key), key).toBe(true);
  if (a !== null) expect(a < key, `${a} < ${key}`).toBe(true);
  if (b !== null) expect(key < b, `${key} < ${b}`).toBe(true);
  return key;
};

/** Keys for `count` new tasks in order after `before`. */
function keysAfter(before: string | null, count: number): string[] {
  const keys: string[] = [];
  let last = before;
  for (let i = 0; i < count; i++) {
    last = keyBetween(last, null);
    keys.push(last);
  }
  return keys;
}

describe("position keys", () => {
  it("start in the middle and extend both ways", () => {
    const first = between(null, null);
    const top = between(null, first);
    const bottom = between(first, null);
    expect([bottom, top, first].sort()).toEqual([top, first, bottom]);
  });

  it("always fit between two neighbours, however often the same gap is split", () => {
    let low = between(null, null);
    let high = between(low, null);
    for (let i = 0; i < 500; i++) {
      const mid = between(low, high);
      if (i % 2 === 0) low = mid;
      else high = mid;
    }
    expect(high.length).toBeLessThan(200);
  });

  it("grow slowly when tasks are put on top again and again", () => {
    let top = between(null, null);
    for (let i = 0; i < 5000; i++) top = between(null, top);
    expect(top.length).toBeLessThanOrEqual(4);
  });

  it("and when they are appended to the bottom", () => {
    const keys = keysAfter(null, 5000);
    expect([...keys].sort()).toEqual(keys);
    expect(keys.at(-1)!.length).toBeLessThanOrEqual(4);
  });

  it("split gaps between integers, and below the smallest key", () => {
    between("a0", "a1");
    between("az", "b00");
    between("Zz", "a0");
    between("a0V", "a1");
    between("a0", "a0V");
    const smallest = `A${"0".repeat(26)}`;
    const below = between(null, `${smallest}1`);
    between(null, below);
  });

  it("sort by bytes the way PostgreSQL's C collation does", () => {
    const keys = keysAfter(null, 200);
    const byBytes = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    expect(byBytes).toEqual(keys);
  });

  it("refuse keys that are out of order or malformed", () => {
    expect(() => keyBetween("a2", "a1")).toThrow(/out of order/);
    expect(() => keyBetween("a1", "a1")).toThrow(/out of order/);
    expect(() => keyBetween("a00", null)).toThrow(/not a position key/);
    expect(() => keyBetween("", null)).toThrow(/not a position key/);
    expect(() => keyBetween("b0", null)).toThrow(/not a position key/);
    expect(() => keyBetween("a-b", null)).toThrow(/not a position key/);
    expect(() => keyBetween("0a", null)).toThrow(/not a position key/);
  });
});
