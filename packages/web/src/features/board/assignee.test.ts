import { describe, expect, it } from "vitest";
import { assigneeValue, parseAssignee, parseLabels } from "./assignee.ts";

describe("assignee select values", () => {
  it("round-trips none, the agent and a member", () => {
    for (const a of [null, { type: "agent" as const }, { type: "member" as const, userId: "u1" }]) {
      expect(parseAssignee(assigneeValue(a))).toEqual(a);
    }
  });
  it("splits, trims and de-duplicates labels", () => {
    expect(parseLabels(" bug, ui ,, ui")).toEqual(["bug", "ui"]);
    expect(parseLabels("")).toEqual([]);
  });
});
