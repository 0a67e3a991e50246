import { BUILTIN_AGENT_ID } from "@kiln/protocol";
import { describe, expect, it } from "vitest";
import { agentLabel, agentValue, assigneeValue, parseAssignee, parseLabels } from "./assignee.ts";

describe("assignee select values", () => {
  it("round-trips none, the agent and a member", () => {
    for (const a of [
      null,
      { type: "agent" as const },
      { type: "agent" as const, agentId: "a1" },
      { type: "member" as const, userId: "u1" },
    ]) {
      expect(parseAssignee(assigneeValue(a))).toEqual(a);
    }
  });
  it("names the built-in agent without an id", () => {
    expect(assigneeValue({ type: "agent", agentId: BUILTIN_AGENT_ID })).toBe("agent");
    expect(agentValue(undefined)).toBe("agent");
    expect(agentValue("a1")).toBe("agent:a1");
  });
  it("labels an agent by icon and name, or 'Agent' when unknown", () => {
    const agents = [
      { id: BUILTIN_AGENT_ID, icon: "🔥", name: "Kiln" },
      { id: "a1", icon: "✏️", name: "Copy editor" },
    ];
    expect(agentLabel(undefined, agents as never)).toBe("🔥 Kiln");
    expect(agentLabel("a1", agents as never)).toBe("✏️ Copy editor");
    expect(agentLabel("gone", agents as never)).toBe("Agent");
  });
  it("splits, trims and de-duplicates labels", () => {
    expect(parseLabels(" bug, ui ,, ui")).toEqual(["bug", "ui"]);
    expect(parseLabels("")).toEqual([]);
  });
});
