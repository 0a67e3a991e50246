import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestWorkspace, tempWorkspace, toolHarness } from "../testing/harness.ts";
import { grepTool } from "./grep.ts";

let t: TestWorkspace;
beforeAll(async () => {
  t = await tempWorkspace({
    "src/App.tsx": "import { useState } from 'react';\nconst [a] = useState(0);\n",
    "src/util.ts": "// TODO: remove\nexport const x = 1;\n",
    "node_modules/react/index.js": "useState\n",
  });
});
afterAll(() => t.dispose());

describe("grep", () => {
  it("returns path:line: text for matches", async () => {
    const result = await toolHarness(t.workspace).call(grepTool, { pattern: "useState\\(" });
    expect(result.output).toBe("src/App.tsx:2: const [a] = useState(0);");
  });

  it("filters by glob and case", async () => {
    const h = toolHarness(t.workspace);
    expect((await h.call(grepTool, { pattern: "todo", ignore_case: true, glob: "*.ts" })).output).toBe(
      "src/util.ts:1: // TODO: remove",
    );
    expect((await h.call(grepTool, { pattern: "todo" })).output).toBe("No matches for /todo/.");
  });

  it("reports an invalid regular expression as an error result", async () => {
    const result = await toolHarness(t.workspace).call(grepTool, { pattern: "([a-" });
    expect(result).toMatchObject({ isError: true });
    expect(result.output).toContain("invalid regular expression");
  });

  it("stops at the limit and says so", async () => {
    const result = await toolHarness(t.workspace).call(grepTool, { pattern: ".", limit: 2 });
    expect(result.output.split("\n")).toHaveLength(3);
    expect(result.output).toContain("stopped at 2 matches");
  });
});
