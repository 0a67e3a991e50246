import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DirWorkspace } from "../dir-workspace.ts";
import { type TestWorkspace, tempWorkspace, toolHarness } from "../testing/harness.ts";
import { bashTool } from "./bash.ts";

let t: TestWorkspace;
beforeAll(async () => {
  t = await tempWorkspace({ "src/a.txt": "hello\n" });
});
afterAll(() => t.dispose());

describe("bash", () => {
  it("runs in the project root and reports the exit code", async () => {
    const result = await toolHarness(t.workspace).call(bashTool, {
      command: "cat src/a.txt && echo oops >&2",
    });
    expect(result.output).toBe("hello\n[stderr]\noops\n[exit code 0]");
    expect(result.isError).toBe(false);
    expect(result.metadata).toMatchObject({ exitCode: 0, timedOut: false });
  });

  it("marks a failing command as an error and keeps its output", async () => {
    const result = await toolHarness(t.workspace).call(bashTool, {
      command: "echo partial; exit 3",
      cwd: "src",
    });
    expect(result).toMatchObject({ isError: true, output: "partial\n[exit code 3]" });
  });

  it("kills a command at its timeout", async () => {
    const result = await toolHarness(t.workspace).call(bashTool, {
      command: "sleep 5",
      timeout_seconds: 0.2,
    });
    expect(result.isError).toBe(true);
    expect(result.output).toContain("[timed out after 0.2 s; the command was killed]");
  });

  it("keeps the head and tail of huge output", async () => {
    const result = await toolHarness(t.workspace).call(bashTool, {
      command: "echo FIRST; seq 1 200000; echo LAST",
    });
    expect(result.output.length).toBeLessThan(42_000);
    expect(result.output).toMatch(/^FIRST/);
    expect(result.output).toContain("LAST\n[output was cut in the middle]\n[exit code 0]");
  });

  it("stops the command when the run is cancelled", async () => {
    const controller = new AbortController();
    const pending = toolHarness(t.workspace).call(bashTool, { command: "sleep 30" }, controller.signal);
    setTimeout(() => controller.abort(), 50);
    expect(await pending).toMatchObject({ isError: true, output: "Cancelled by the user." });
  });

  it("refuses a working directory outside the project and says when commands are unavailable", async () => {
    expect(
      (await toolHarness(t.workspace).call(bashTool, { command: "pwd", cwd: "../.." })).output,
    ).toContain("path_outside_project");
    const bare = new DirWorkspace({ root: t.root });
    expect((await toolHarness(bare).call(bashTool, { command: "true" })).output).toBe(
      "Error (unavailable): this workspace cannot run commands",
    );
    expect(
      (await toolHarness(t.workspace).call(bashTool, { command: "true", timeout_seconds: 100_000 })).isError,
    ).toBe(true);
  });
});
