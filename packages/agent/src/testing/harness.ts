import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import nodePath from "node:path";
import type { AgentEvent } from "@kiln/protocol";
import { DirWorkspace, type DirWorkspaceOptions } from "../dir-workspace.ts";
import { executeTool, type ToolCallOutcome, type ToolContext, type ToolDefinition } from "../tool.ts";
import type { Workspace } from "../workspace.ts";
import { unsandboxedHostExec, unsandboxedHostShell } from "./host-exec.ts";

export interface TestWorkspace {
  root: string;
  workspace: DirWorkspace;
  dispose(): Promise<void>;
}

/** A DirWorkspace over a fresh temp directory holding `files`; commands run unsandboxed on the host. */
export async function tempWorkspace(
  files: Record<string, string> = {},
  options: Partial<DirWorkspaceOptions> = {},
): Promise<TestWorkspace> {
  const root = await mkdtemp(nodePath.join(tmpdir(), "kiln-agent-"));
  for (const [path, content] of Object.entries(files)) {
    await mkdir(nodePath.dirname(nodePath.join(root, path)), { recursive: true });
    await writeFile(nodePath.join(root, path), content);
  }
  const workspace = new DirWorkspace({
    root,
    exec: unsandboxedHostExec(root),
    openShell: unsandboxedHostShell(root),
    ...options,
  });
  return { root, workspace, dispose: () => rm(root, { recursive: true, force: true }) };
}

export interface ToolHarness {
  ctx: ToolContext;
  events: AgentEvent[];
  call(tool: ToolDefinition, input: unknown, signal?: AbortSignal): Promise<ToolCallOutcome>;
  /** Runs what tools registered with onRunEnd (closes shells). */
  endRun(): Promise<void>;
}

export function toolHarness(workspace: Workspace): ToolHarness {
  const events: AgentEvent[] = [];
  const cleanups: Array<() => Promise<void> | void> = [];
  const ctx: ToolContext = {
    workspace,
    signal: new AbortController().signal,
    messageId: "msg_test",
    toolCallId: "call_test",
    state: new Map(),
    emit: (e) => events.push(e),
    onRunEnd: (fn) => cleanups.push(fn),
  };
  return {
    ctx,
    events,
    call: (tool, input, signal) => executeTool(tool, input, { ...ctx, signal: signal ?? ctx.signal }),
    async endRun() {
      for (const fn of cleanups.splice(0)) await fn();
    },
  };
}
