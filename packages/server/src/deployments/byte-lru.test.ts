import { describe, expect, it } from "vitest";
import { ByteLru } from "./byte-lru.ts";

const bytes = (n: number) => Buffer.alloc(n);

describe("ByteLru", () => {
  it("evicts the least recently used entries once the total passes the budget", () => {
    const lru = new ByteLru(10);
    lru.set("a", bytes(4));
    lru.set("b", bytes(4));
    expect(lru.get("a")?.length).toBe(4); // a is now the most recent
    lru.set("c", bytes(4));
    expect(lru.get("b")).toBeUndefined();
    expect(lru.get("a")?.length).toBe(4);
    expect(lru.get("c")?.length).toBe(4);
    expect(lru.bytes).toBe(8);
  });

  it("replaces a key without counting it twice, and never keeps one larger than the budget", () => {
    const lru = new ByteLru(10);
    lru.set("a", bytes(6));
    lru.set("a", bytes(3));
    expect(lru.bytes).toBe(3);
    lru.set("huge", bytes(11));
    expect(lru.get("huge")).toBeUndefined();
    expect(lru.get("a")?.length).toBe(3);
    lru.set("big", bytes(10));
    expect(lru.get("a")).toBeUndefined();
    expect(lru.bytes).toBe(10);
  });
});
