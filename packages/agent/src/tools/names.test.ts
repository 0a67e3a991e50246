import { AGENT_TOOL_NAMES } from "@kiln/protocol";
import { describe, expect, it } from "vitest";
import { createDefaultTools } from "./index.ts";

describe("the tool names agent definitions may allow", () => {
  it("are exactly the default tools' names, in their order", () => {
    expect(createDefaultTools().map((t) => t.name)).toEqual([...AGENT_TOOL_NAMES]);
  });
});
