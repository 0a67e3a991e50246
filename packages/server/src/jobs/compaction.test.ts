import { describe, expect, it } from "vitest";
import { mergeDeltas, type StoredJobEvent } from "./compaction.ts";

const text = (seq: number, delta: string, messageId = "m1", attempt = 1): StoredJobEvent => ({
  seq,
  attempt,
  event: { type: "agent", event: { type: "text-delta", messageId, delta } },
});
const other = (seq: number, event: unknown, attempt = 1): StoredJobEvent => ({ seq, attempt, event });

/** What a reader folding the log shows: the text per message and attempt, and everything else in order. */
function fold(rows: StoredJobEvent[]): string[] {
  const out: string[] = [];
  for (const r of rows) {
    const e = r.event as { type: string; event?: { type: string; messageId: string; delta?: string } };
    if (
      e.type === "agent" &&
      e.event &&
      (e.event.type === "text-delta" || e.event.type === "reasoning-delta")
    ) {
      const key = `${r.attempt}:${e.event.type}:${e.event.messageId}:`;
      const last = out.length - 1;
      if (out[last]?.startsWith(key)) out[last] = `${out[last]}${e.event.delta ?? ""}`;
      else out.push(key + (e.event.delta ?? ""));
    } else out.push(JSON.stringify(e));
  }
  return out;
}

function apply(rows: StoredJobEvent[]): StoredJobEvent[] {
  const { rewrite, drop } = mergeDeltas(rows);
  const rewritten = new Map(rewrite.map((r) => [r.seq, r]));
  return rows.filter((r) => !drop.includes(r.seq)).map((r) => rewritten.get(r.seq) ?? r);
}

describe("merging a finished job's text chunks", () => {
  it("folds each run of chunks into its first event, and a reader sees the same log", () => {
    const rows = [
      other(1, { type: "step", name: "agent", status: "started" }),
      text(2, "Hel"),
      text(3, "lo, "),
      text(4, "world"),
      other(5, {
        type: "agent",
        event: { type: "tool-call-start", messageId: "m1", toolCallId: "t", name: "bash" },
      }),
      text(6, "Done"),
      text(7, "."),
      {
        seq: 8,
        attempt: 1,
        event: { type: "agent", event: { type: "reasoning-delta", messageId: "m1", delta: "hm" } },
      },
      text(9, "x", "m2"),
      text(10, "y", "m2"),
      other(11, { type: "log", level: "info", message: "pushed" }),
    ];
    const { rewrite, drop } = mergeDeltas(rows);
    expect(drop).toEqual([3, 4, 7, 10]);
    expect(rewrite.map((r) => r.seq)).toEqual([2, 6, 9]);
    expect((rewrite[0]!.event as { event: { delta: string } }).event.delta).toBe("Hello, world");
    const after = apply(rows);
    expect(after).toHaveLength(7);
    expect(fold(after)).toEqual(fold(rows));
  });

  it("keeps attempts apart, leaves single chunks and other events alone, and does nothing twice", () => {
    const rows = [
      text(1, "a", "m", 1),
      text(2, "b", "m", 2),
      text(3, "c", "m", 2),
      other(4, { type: "weird" }),
    ];
    const once = apply(rows);
    expect(once.map((r) => r.seq)).toEqual([1, 2, 4]);
    expect(fold(once)).toEqual(fold(rows));
    expect(mergeDeltas(once)).toEqual({ rewrite: [], drop: [] });
    expect(mergeDeltas([])).toEqual({ rewrite: [], drop: [] });
    // Malformed stored events are not touched.
    const odd = [
      other(1, { type: "agent", event: { type: "text-delta", messageId: 1, delta: "x" } }),
      text(2, "y"),
    ];
    expect(mergeDeltas(odd)).toEqual({ rewrite: [], drop: [] });
  });
});
