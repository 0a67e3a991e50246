import type { AgentEvent } from "@kiln/protocol";
import { applyEventToParts, type MessagePart } from "@kiln/protocol";
import { describe, expect, it } from "vitest";
import { DeltaCoalescer } from "./delta-coalescer.ts";

const text = (delta: string): AgentEvent => ({ type: "text-delta", messageId: "m", delta });
const reasoning = (delta: string): AgentEvent => ({ type: "reasoning-delta", messageId: "m", delta });
const nextTurnOfTheLoop = () => new Promise((r) => setImmediate(r));

describe("DeltaCoalescer", () => {
  it("joins the deltas of one turn of the event loop into one event, sent once the loop moves on", async () => {
    const sent: AgentEvent[] = [];
    const c = new DeltaCoalescer((e) => sent.push(e));
    for (const d of ["kiln ", "fires ", "pots"]) c.add(text(d));
    expect(sent).toEqual([]);
    await nextTurnOfTheLoop();
    expect(sent).toEqual([text("kiln fires pots")]);
    c.add(text(" all night"));
    await nextTurnOfTheLoop();
    expect(sent).toEqual([text("kiln fires pots"), text(" all night")]);
  });

  it("keeps the order: any other event sends the waiting delta first, and kinds are never mixed", async () => {
    const sent: AgentEvent[] = [];
    const c = new DeltaCoalescer((e) => sent.push(e));
    const start: AgentEvent = {
      type: "tool-input-start",
      messageId: "m",
      toolCallId: "t1",
      toolName: "bash",
    };
    c.add(reasoning("think "));
    c.add(reasoning("hard"));
    c.add(text("a"));
    c.add(text("b"));
    c.add(start);
    c.add(text("c"));
    c.flush();
    expect(sent).toEqual([reasoning("think hard"), text("ab"), start, text("c")]);
    await nextTurnOfTheLoop();
    expect(sent).toHaveLength(4);
  });

  it("folds into the same message parts as the separate deltas would", async () => {
    const events = [reasoning("r1"), reasoning("r2"), text("t1"), text("t2"), text("t3")];
    const separate = events.reduce<MessagePart[]>((parts, e) => applyEventToParts(parts, e), []);
    const sent: AgentEvent[] = [];
    const c = new DeltaCoalescer((e) => sent.push(e));
    for (const e of events) c.add(e);
    await nextTurnOfTheLoop();
    expect(sent.length).toBeLessThan(events.length);
    expect(sent.reduce<MessagePart[]>((parts, e) => applyEventToParts(parts, e), [])).toEqual(separate);
  });

  it("does not change the events it was given", () => {
    const first = text("a");
    const c = new DeltaCoalescer(() => {});
    c.add(first);
    c.add(text("b"));
    c.flush();
    expect(first).toEqual(text("a"));
  });
});
