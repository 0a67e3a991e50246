import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DirWorkspace } from "../dir-workspace.ts";
import { type TestWorkspace, tempWorkspace, toolHarness } from "../testing/harness.ts";
import { shellCloseTool, shellOpenTool, shellRunTool } from "./shell.ts";

let t: TestWorkspace;
beforeAll(async () => {
  t = await tempWorkspace({ "sub/x.txt": "x\n" });
});
afterAll(() => t.dispose());

describe("shell_open / shell_run / shell_close", () => {
  it("keeps the working directory and variables between commands", async () => {
    const h = toolHarness(t.workspace);
    const opened = await h.call(shellOpenTool, {});
    const id = (opened.metadata as { shellId: string }).shellId;
    expect(opened.output).toBe(`Opened shell ${id}.`);
    await h.call(shellRunTool, { shell_id: id, command: "cd sub && export GREETING=hi" });
    const result = await h.call(shellRunTool, {
      shell_id: id,
      command: 'ls; echo "$GREETING"; echo err >&2; false',
    });
    expect(result).toMatchObject({ isError: true, output: "x.txt\nhi\nerr\n[exit code 1]" });
    expect((await h.call(shellCloseTool, { shell_id: id })).output).toBe(`Closed shell ${id}.`);
    expect((await h.call(shellRunTool, { shell_id: id, command: "pwd" })).output).toContain("No open shell");
  });

  it("does not let a command that reads stdin swallow the next ones", async () => {
    const h = toolHarness(t.workspace);
    const id = ((await h.call(shellOpenTool, {})).metadata as { shellId: string }).shellId;
    expect((await h.call(shellRunTool, { shell_id: id, command: "cat" })).output).toBe(
      "(no output)\n[exit code 0]",
    );
    expect((await h.call(shellRunTool, { shell_id: id, command: "echo still here" })).output).toBe(
      "still here\n[exit code 0]",
    );
    await h.endRun();
  });

  it("closes a shell whose command times out, and all shells when the run ends", async () => {
    const h = toolHarness(t.workspace);
    const id = ((await h.call(shellOpenTool, {})).metadata as { shellId: string }).shellId;
    const slow = await h.call(shellRunTool, { shell_id: id, command: "sleep 10", timeout_seconds: 0.2 });
    expect(slow.output).toContain(`[shell ${id} was closed; open a new one]`);
    const other = ((await h.call(shellOpenTool, {})).metadata as { shellId: string }).shellId;
    await h.endRun();
    expect((await h.call(shellRunTool, { shell_id: other, command: "pwd" })).output).toContain(
      "No open shell",
    );
  });

  it("limits open shells and explains when the workspace has none", async () => {
    const h = toolHarness(t.workspace);
    for (let i = 0; i < 3; i++) await h.call(shellOpenTool, {});
    expect((await h.call(shellOpenTool, {})).output).toMatch(/Already 3 shells open/);
    await h.endRun();
    const bare = new DirWorkspace({ root: t.root });
    expect((await toolHarness(bare).call(shellOpenTool, {})).output).toContain(
      "not available in this workspace",
    );
  });
});
