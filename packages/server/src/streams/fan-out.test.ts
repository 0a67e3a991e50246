import { describe, expect, it } from "vitest";
import { FanOut, type FeedSource } from "./fan-out.ts";

interface Ev {
  seq: number;
}

/** A stored log in memory, appended to while followers read it; counts the reads made of it. */
function log(page: number) {
  const events: Ev[] = [];
  let over = false;
  const counts = { read: 0, status: 0 };
  const source: FeedSource<Ev> = {
    async read(after) {
      counts.read++;
      await new Promise((r) => setImmediate(r));
      return events.filter((e) => e.seq > after).slice(0, page);
    },
    async status() {
      counts.status++;
      await new Promise((r) => setImmediate(r));
      return { last: events.at(-1)?.seq ?? 0, over };
    },
  };
  return {
    source,
    counts,
    append(n: number) {
      for (let i = 0; i < n; i++) events.push({ seq: (events.at(-1)?.seq ?? 0) + 1 });
    },
    end() {
      over = true;
    },
    get last() {
      return events.at(-1)?.seq ?? 0;
    },
  };
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i + 1);

describe("FanOut", () => {
  it("gives followers that join at any moment and from any position every event once, in order", async () => {
    const fan = new FanOut<Ev>({ page: 7, pollMs: 5 });
    const stored = log(7);
    stored.append(20);
    const followers: Array<{ from: number; got: number[]; done: Promise<void> }> = [];
    const join = () => {
      const from = Math.floor(Math.random() * (stored.last + 1));
      const got: number[] = [];
      const done = fan.follow(
        "k",
        stored.source,
        from,
        (e) => void got.push(e.seq),
        new AbortController().signal,
      );
      followers.push({ from, got, done });
    };
    for (let round = 0; round < 200; round++) {
      stored.append(Math.floor(Math.random() * 4));
      if (round % 3 === 0) join();
      if (round % 5 === 0) fan.wake("k");
      await new Promise((r) => setImmediate(r));
    }
    stored.end();
    fan.wake("k");
    await Promise.all(followers.map((f) => f.done));
    for (const f of followers) expect(f.got).toEqual(range(f.from, stored.last));
    expect(fan.feeds).toBe(0);
  });

  it("polls once per log however many follow it, and stops when the last one leaves", async () => {
    const fan = new FanOut<Ev>({ page: 100, pollMs: 10 });
    const stored = log(100);
    stored.append(3);
    const controllers = Array.from({ length: 50 }, () => new AbortController());
    const done = controllers.map((c) => fan.follow("k", stored.source, 0, () => {}, c.signal));
    await new Promise((r) => setTimeout(r, 50));
    const before = { ...stored.counts };
    await new Promise((r) => setTimeout(r, 200));
    // About 20 ticks of one poller (a read and a status each); 50 pollers would be ~1000 of each.
    expect(stored.counts.status - before.status).toBeLessThan(40);
    expect(stored.counts.read - before.read).toBeLessThan(40);
    for (const c of controllers) c.abort();
    await Promise.all(done);
    await new Promise((r) => setTimeout(r, 30));
    expect(fan.feeds).toBe(0);
    const after = { ...stored.counts };
    await new Promise((r) => setTimeout(r, 50));
    expect(stored.counts).toEqual(after);
  });

  it("sends what the log holds across holes in its numbers (compacted events)", async () => {
    const fan = new FanOut<Ev>({ page: 10, pollMs: 5 });
    const events: Ev[] = [{ seq: 1 }, { seq: 2 }, { seq: 9 }];
    let over = false;
    const source: FeedSource<Ev> = {
      read: async (after) => events.filter((e) => e.seq > after),
      status: async () => ({ last: events.at(-1)!.seq, over }),
    };
    const got: number[] = [];
    const done = fan.follow("k", source, 0, (e) => void got.push(e.seq), new AbortController().signal);
    await new Promise((r) => setTimeout(r, 20));
    events.push({ seq: 12 }, { seq: 13 });
    fan.wake("k");
    await new Promise((r) => setTimeout(r, 20));
    over = true;
    fan.wake("k");
    await done;
    expect(got).toEqual([1, 2, 9, 12, 13]);
  });
});
