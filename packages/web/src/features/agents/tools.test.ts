import { AGENT_TOOL_NAMES, type AgentSpec } from "@kiln/protocol";
import { describe, expect, it } from "vitest";
import { bodyOf, draftOf, EMPTY_DRAFT, TOOL_DESCRIPTIONS } from "./tools.ts";

const spec: AgentSpec = {
  name: "Copy editor",
  description: "Fixes prose",
  icon: "✏️",
  systemPrompt: "Fix spelling.",
  tools: ["read_file", "edit_file"],
  mcpServers: ["0b4c4f0e-8a51-4c1e-9a8e-3f1f7f2a1c11"],
  defaultModel: "openai/gpt-x",
  defaultMode: "ask",
  stepLimit: 12,
};

describe("agent form state", () => {
  it("round-trips a stored spec to the body a save sends", () => {
    expect(bodyOf(draftOf(spec))).toEqual(spec);
  });

  it("sends the unset defaults as null", () => {
    const body = bodyOf({ ...EMPTY_DRAFT, name: "A", systemPrompt: "p", stepLimit: "  " });
    expect(body).toMatchObject({ defaultModel: null, defaultMode: null, stepLimit: null });
    expect(bodyOf({ ...EMPTY_DRAFT, stepLimit: "40" }).stepLimit).toBe(40);
  });

  it("names a duplicate as a copy, within the name's limit, with the same prompt and tools", () => {
    const copy = draftOf({ ...spec, name: "K".repeat(100) }, true);
    expect(copy.name).toHaveLength(100);
    expect(draftOf(spec, true)).toMatchObject({ name: "Copy editor (copy)", systemPrompt: "Fix spelling." });
    expect(draftOf(spec, true).tools).toEqual(spec.tools);
  });

  it("describes every tool an agent may be allowed", () => {
    for (const t of AGENT_TOOL_NAMES) expect(TOOL_DESCRIPTIONS[t].length).toBeGreaterThan(3);
  });
});
