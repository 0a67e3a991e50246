import { describe, expect, it } from "vitest";
import { toolInputJsonSchema } from "../tool.ts";
import { createDefaultTools } from "./index.ts";

/** What the model is shown is a wire contract: a change here must be deliberate (update the snapshot). */
describe("tool schemas shown to the model", () => {
  const tools = createDefaultTools();

  it("has unique names and a description for each tool", () => {
    expect(new Set(tools.map((t) => t.name)).size).toBe(tools.length);
    for (const t of tools) expect(t.description.length).toBeGreaterThan(20);
  });

  it("marks exactly the tools that change files or run commands as mutating", () => {
    expect(tools.filter((t) => t.mutates).map((t) => t.name)).toEqual([
      "write_file",
      "edit_file",
      "multi_edit",
      "bash",
      "shell_open",
      "shell_run",
    ]);
  });

  for (const tool of tools) {
    it(`${tool.name}`, () => {
      expect({
        name: tool.name,
        description: tool.description,
        mutates: tool.mutates,
        parameters: toolInputJsonSchema(tool),
      }).toMatchSnapshot();
    });
  }
});
