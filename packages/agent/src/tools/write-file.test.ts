import { readFile, writeFile } from "node:fs/promises";
import nodePath from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestWorkspace, tempWorkspace, toolHarness } from "../testing/harness.ts";
import type { Workspace } from "../workspace.ts";
import { writeFileTool } from "./write-file.ts";

let t: TestWorkspace;
beforeAll(async () => {
  t = await tempWorkspace({ "src/a.ts": "one\ntwo\n" });
});
afterAll(() => t.dispose());

describe("write_file", () => {
  it("creates a file with parents and reports it as changed", async () => {
    const result = await toolHarness(t.workspace).call(writeFileTool, {
      path: "src/new/b.ts",
      content: "x\ny\n",
    });
    expect(result).toMatchObject({
      isError: false,
      output: "Created src/new/b.ts (2 lines).",
      changedPaths: ["src/new/b.ts"],
    });
    expect(await readFile(nodePath.join(t.root, "src/new/b.ts"), "utf8")).toBe("x\ny\n");
  });

  it("replaces a file and puts a unified diff in the metadata for the UI", async () => {
    const result = await toolHarness(t.workspace).call(writeFileTool, {
      path: "src/a.ts",
      content: "one\nTWO\n",
    });
    expect(result.output).toBe("Replaced the content of src/a.ts (2 lines, was 2 lines).");
    expect((result.metadata as { diff: string }).diff).toBe(
      "--- a/src/a.ts\n+++ b/src/a.ts\n@@ -1,2 +1,2 @@\n one\n-two\n+TWO\n",
    );
  });

  it("diffs against exactly what the write replaced; a binary file it replaces has no diff", async () => {
    await writeFile(nodePath.join(t.root, "src/c.txt"), "before\n");
    await writeFile(nodePath.join(t.root, "logo.bin"), Buffer.from([1, 0, 2]));
    // The write reads what it replaces itself: no separate read_file step the file could change between.
    let reads = 0;
    const w = t.workspace;
    const counting: Workspace = {
      readFile: (p) => {
        reads++;
        return w.readFile(p);
      },
      writeFile: (p, c, o) => w.writeFile(p, c, o),
      deleteFile: (p) => w.deleteFile(p),
      list: (d, o) => w.list(d, o),
      grep: (p, o) => w.grep(p, o),
      exec: (c, o) => w.exec(c, o),
    };
    const h = toolHarness(counting);
    const text = await h.call(writeFileTool, { path: "src/c.txt", content: "after\n" });
    expect((text.metadata as { diff: string }).diff).toContain("-before\n+after\n");
    const binary = await h.call(writeFileTool, { path: "logo.bin", content: "now text\n" });
    expect(binary.output).toBe("Replaced the content of logo.bin (1 lines, was not text).");
    expect((binary.metadata as { diff?: string }).diff).toBeUndefined();
    expect(reads).toBe(0);
    expect(await readFile(nodePath.join(t.root, "logo.bin"), "utf8")).toBe("now text\n");
  });

  it("refuses paths outside the project, into .git and garbage input", async () => {
    const h = toolHarness(t.workspace);
    expect((await h.call(writeFileTool, { path: "../evil.sh", content: "x" })).output).toMatch(
      /path_outside_project/,
    );
    expect((await h.call(writeFileTool, { path: ".git/hooks/pre-commit", content: "x" })).output).toMatch(
      /path_reserved/,
    );
    expect((await h.call(writeFileTool, { path: "/etc/x", content: "x" })).output).toMatch(/path_invalid/);
    expect((await h.call(writeFileTool, { path: "a.txt" })).output).toContain("content");
  });
});
