import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestWorkspace, tempWorkspace, toolHarness } from "../testing/harness.ts";
import { readFileTool } from "./read-file.ts";

let t: TestWorkspace;
const lines = Array.from({ length: 30 }, (_, i) => `line ${i + 1}`).join("\n");

beforeAll(async () => {
  t = await tempWorkspace({
    "a.txt": `${lines}\n`,
    "empty.txt": "",
    "long.txt": `${"x".repeat(5000)}\nshort\n`,
    "crlf.txt": "a\r\nb\r\n",
  });
});
afterAll(() => t.dispose());

describe("read_file", () => {
  it("numbers lines and reads a range", async () => {
    const h = toolHarness(t.workspace);
    const all = await h.call(readFileTool, { path: "a.txt" });
    expect(all.output.split("\n")[0]).toBe(" 1\tline 1");
    expect(all.output.split("\n")).toHaveLength(30);
    const range = await h.call(readFileTool, { path: "a.txt", offset: 10, limit: 3 });
    expect(range.output).toBe(
      "10\tline 10\n11\tline 11\n12\tline 12\n(lines 10-12 of 30; read on with offset 13)",
    );
    expect(range.metadata).toEqual({ path: "a.txt", startLine: 10, endLine: 12, totalLines: 30 });
  });

  it("handles empty files, CRLF, long lines and offsets past the end", async () => {
    const h = toolHarness(t.workspace);
    expect((await h.call(readFileTool, { path: "empty.txt" })).output).toBe("empty.txt is empty.");
    expect((await h.call(readFileTool, { path: "crlf.txt" })).output).toBe("1\ta\n2\tb");
    const long = await h.call(readFileTool, { path: "long.txt" });
    expect(long.output).toContain("[line cut at 2000 characters]");
    expect(long.output).toContain("2\tshort");
    const past = await h.call(readFileTool, { path: "a.txt", offset: 31 });
    expect(past).toMatchObject({
      isError: true,
      output: "offset 31 is past the end of a.txt, which has 30 lines.",
    });
  });

  it("turns workspace refusals and bad input into readable errors", async () => {
    const h = toolHarness(t.workspace);
    expect((await h.call(readFileTool, { path: "../../etc/passwd" })).output).toMatch(
      /^Error \(path_outside_project\)/,
    );
    expect((await h.call(readFileTool, { path: "missing.txt" })).output).toMatch(/^Error \(file_not_found\)/);
    expect((await h.call(readFileTool, { path: "a.txt", offset: 0 })).output).toContain("Invalid arguments");
    expect((await h.call(readFileTool, { path: "a.txt", limit: 10_000_000 })).isError).toBe(true);
  });
});
