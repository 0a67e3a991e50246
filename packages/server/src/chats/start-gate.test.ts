import { describe, expect, it } from "vitest";
import { StartGate } from "./start-gate.ts";

const deferred = () => {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
};
const settle = () => new Promise((r) => setImmediate(r));

describe("StartGate", () => {
  it("runs at most `size` at once and starts the rest in arrival order", async () => {
    const gate = new StartGate(2);
    const started: number[] = [];
    const works = Array.from({ length: 5 }, () => deferred());
    const runs = works.map((w, i) =>
      gate.run(async () => {
        started.push(i);
        await w.promise;
        return i;
      }),
    );
    await settle();
    expect(started).toEqual([0, 1]);
    expect(gate.waiting).toBe(3);
    works[1]!.resolve();
    await settle();
    expect(started).toEqual([0, 1, 2]);
    works[0]!.resolve();
    works[2]!.resolve();
    await settle();
    expect(started).toEqual([0, 1, 2, 3, 4]);
    works[3]!.resolve();
    works[4]!.resolve();
    expect(await Promise.all(runs)).toEqual([0, 1, 2, 3, 4]);
    expect(gate.waiting).toBe(0);
  });

  it("gives the place back when the work fails, and the failure reaches its caller", async () => {
    const gate = new StartGate(1);
    const failing = gate.run(async () => {
      throw new Error("boom");
    });
    const next = gate.run(async () => "ran");
    await expect(failing).rejects.toThrow("boom");
    expect(await next).toBe("ran");
    // The one place is free again: a third run does not wait.
    let ran = false;
    await gate.run(async () => {
      ran = true;
    });
    expect(ran).toBe(true);
  });

  it("refuses a size that would never run anything", () => {
    expect(() => new StartGate(0)).toThrow();
    expect(() => new StartGate(1.5)).toThrow();
  });
});
