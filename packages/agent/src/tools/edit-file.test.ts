import { readFile, writeFile } from "node:fs/promises";
import nodePath from "node:path";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { type TestWorkspace, tempWorkspace, toolHarness } from "../testing/harness.ts";
import { editFileTool, multiEditTool } from "./edit-file.ts";

let t: TestWorkspace;
const APP = `import React from "react";

export function App() {
  const count = 1;
  return (
    <div>
      <h1>Hello</h1>
      <p>{count}</p>
    </div>
  );
}
`;

beforeEach(async () => {
  t ??= await tempWorkspace();
  await writeFile(nodePath.join(t.root, "App.tsx"), APP);
  await writeFile(nodePath.join(t.root, "dup.ts"), "let x = 1;\nlet y = 2;\nlet x = 1;\n");
});
afterAll(() => t.dispose());

const read = (p: string) => readFile(nodePath.join(t.root, p), "utf8");

describe("edit_file", () => {
  it("replaces a unique exact match and returns a diff", async () => {
    const result = await toolHarness(t.workspace).call(editFileTool, {
      path: "App.tsx",
      old_string: "<h1>Hello</h1>",
      new_string: "<h1>Hello, Kiln</h1>",
    });
    expect(result).toMatchObject({
      isError: false,
      output: "Edited App.tsx: replaced at line 7.",
      changedPaths: ["App.tsx"],
    });
    expect(await read("App.tsx")).toContain("<h1>Hello, Kiln</h1>");
    expect((result.metadata as { diff: string }).diff).toContain(
      "-      <h1>Hello</h1>\n+      <h1>Hello, Kiln</h1>",
    );
  });

  it("refuses an ambiguous match, naming the lines, and replaces all when asked", async () => {
    const h = toolHarness(t.workspace);
    const ambiguous = await h.call(editFileTool, {
      path: "dup.ts",
      old_string: "let x = 1;",
      new_string: "let x = 3;",
    });
    expect(ambiguous.isError).toBe(true);
    expect(ambiguous.output).toContain("matches 2 places in dup.ts (lines 1, 3)");
    expect(ambiguous.output).toContain("replace_all");
    expect(await read("dup.ts")).toBe("let x = 1;\nlet y = 2;\nlet x = 1;\n");
    const all = await h.call(editFileTool, {
      path: "dup.ts",
      old_string: "let x = 1;",
      new_string: "let x = 3;",
      replace_all: true,
    });
    expect(all.output).toBe("Edited dup.ts: replaced at 2 places.");
    expect(await read("dup.ts")).toBe("let x = 3;\nlet y = 2;\nlet x = 3;\n");
  });

  it("shows the closest region when the text is not there", async () => {
    const result = await toolHarness(t.workspace).call(editFileTool, {
      path: "App.tsx",
      old_string: "      <h1>Goodbye</h1>\n      <p>{counter}</p>",
      new_string: "x",
    });
    expect(result.isError).toBe(true);
    expect(result.output).toContain("old_string was not found in App.tsx. The closest text is at lines 6-9:");
    expect(result.output).toContain("7\t      <h1>Hello</h1>");
    expect(await read("App.tsx")).toBe(APP);
  });

  it("accepts a unique match that differs only in whitespace, keeping the file's indentation", async () => {
    const result = await toolHarness(t.workspace).call(editFileTool, {
      path: "App.tsx",
      old_string: "  <div>\n    <h1>Hello</h1>\n    <p>{count}</p>\n  </div>",
      new_string: "  <main>\n    <h1>Hi</h1>\n  </main>",
    });
    expect(result.output).toContain("matched ignoring whitespace differences");
    expect(await read("App.tsx")).toContain("  return (\n    <main>\n      <h1>Hi</h1>\n    </main>\n  );");
  });

  it("follows CRLF files", async () => {
    await writeFile(nodePath.join(t.root, "win.txt"), "a\r\nb\r\nc\r\n");
    await toolHarness(t.workspace).call(editFileTool, {
      path: "win.txt",
      old_string: "a\nb",
      new_string: "A\nB",
    });
    expect(await read("win.txt")).toBe("A\r\nB\r\nc\r\n");
  });

  it("explains pointless and impossible edits", async () => {
    const h = toolHarness(t.workspace);
    expect(
      (await h.call(editFileTool, { path: "App.tsx", old_string: "", new_string: "x" })).output,
    ).toContain("write_file");
    expect(
      (await h.call(editFileTool, { path: "App.tsx", old_string: "a", new_string: "a" })).output,
    ).toContain("identical");
    expect(
      (await h.call(editFileTool, { path: "nope.ts", old_string: "a", new_string: "b" })).output,
    ).toContain("does not exist");
    expect((await h.call(editFileTool, { path: "../x", old_string: "a", new_string: "b" })).output).toContain(
      "path_outside_project",
    );
  });
});

describe("multi_edit", () => {
  it("applies edits in order to one file", async () => {
    const result = await toolHarness(t.workspace).call(multiEditTool, {
      path: "App.tsx",
      edits: [
        { old_string: "const count = 1;", new_string: "const count = 2;" },
        { old_string: "<p>{count}</p>", new_string: "<p>Count: {count}</p>" },
      ],
    });
    expect(result.isError).toBe(false);
    expect(result.output).toBe(
      "Edited App.tsx: Edit 1 of 2: replaced at line 4; Edit 2 of 2: replaced at line 8.",
    );
    expect(await read("App.tsx")).toContain("<p>Count: {count}</p>");
  });

  it("writes nothing when any edit fails", async () => {
    const result = await toolHarness(t.workspace).call(multiEditTool, {
      path: "App.tsx",
      edits: [
        { old_string: "const count = 1;", new_string: "const count = 2;" },
        { old_string: "not in the file at all", new_string: "x" },
      ],
    });
    expect(result.isError).toBe(true);
    expect(result.output).toMatch(/^Edit 2 of 2: old_string was not found/);
    expect(result.output).toContain("No edit was written");
    expect(await read("App.tsx")).toBe(APP);
  });

  it("rejects an empty edit list", async () => {
    expect(
      (await toolHarness(t.workspace).call(multiEditTool, { path: "App.tsx", edits: [] })).output,
    ).toContain("Invalid arguments");
  });
});
