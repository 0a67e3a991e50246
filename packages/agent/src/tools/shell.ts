import { z } from "zod";
import { defineTool, type ToolContext } from "../tool.ts";
import type { ShellSession } from "../workspace.ts";
import { formatExecResult } from "./bash.ts";

const MAX_SHELLS = 3;
const DEFAULT_TIMEOUT_S = 120;

function shells(ctx: ToolContext): Map<string, ShellSession> {
  let map = ctx.state.get("shells") as Map<string, ShellSession> | undefined;
  if (!map) {
    const created = new Map<string, ShellSession>();
    map = created;
    ctx.state.set("shells", created);
    ctx.onRunEnd(async () => {
      await Promise.allSettled([...created.values()].map((s) => s.close()));
      created.clear();
    });
  }
  return map;
}

function unknownShell(id: string, open: Map<string, ShellSession>): { output: string; isError: true } {
  const ids = [...open.keys()];
  return {
    output: `No open shell with id "${id}". ${ids.length ? `Open shells: ${ids.join(", ")}.` : "Open one with shell_open."}`,
    isError: true,
  };
}

export const shellOpenTool = defineTool({
  name: "shell_open",
  description:
    "Open a persistent shell in the project's sandbox. Unlike bash, its working directory and variables persist " +
    "between shell_run calls. Returns the shell id. Shells close when this turn ends.",
  input: z.object({}),
  mutates: true,
  async execute(_input, ctx) {
    if (!ctx.workspace.openShell) {
      return {
        output: "Persistent shells are not available in this workspace; use bash instead.",
        isError: true,
      };
    }
    const open = shells(ctx);
    if (open.size >= MAX_SHELLS) {
      return {
        output: `Already ${open.size} shells open (${[...open.keys()].join(", ")}); close one first.`,
        isError: true,
      };
    }
    const session = await ctx.workspace.openShell();
    open.set(session.id, session);
    return { output: `Opened shell ${session.id}.`, metadata: { shellId: session.id } };
  },
});

export const shellRunTool = defineTool({
  name: "shell_run",
  description: "Run a command in a shell opened with shell_open and return its output and exit code.",
  input: z.object({
    shell_id: z.string().min(1).max(100).describe("The id shell_open returned"),
    command: z.string().min(1).max(20_000).describe("The command line to run"),
    timeout_seconds: z
      .number()
      .min(0.1)
      .max(600)
      .optional()
      .describe(`Give up after this many seconds (default ${DEFAULT_TIMEOUT_S}); the shell is closed then`),
  }),
  mutates: true,
  timeoutMs: (input) => ((input.timeout_seconds ?? DEFAULT_TIMEOUT_S) + 15) * 1000,
  maxOutputChars: 40_000,
  async execute(input, ctx) {
    const open = shells(ctx);
    const session = open.get(input.shell_id);
    if (!session) return unknownShell(input.shell_id, open);
    const timeoutMs = (input.timeout_seconds ?? DEFAULT_TIMEOUT_S) * 1000;
    const result = await session.run(input.command, { timeoutMs, signal: ctx.signal });
    if (result.timedOut) {
      open.delete(input.shell_id);
      await session.close().catch(() => {});
    }
    const closed = result.timedOut ? `\n[shell ${input.shell_id} was closed; open a new one]` : "";
    return {
      output: formatExecResult(result, timeoutMs) + closed,
      isError: result.exitCode !== 0,
      metadata: {
        shellId: input.shell_id,
        command: input.command,
        exitCode: result.exitCode,
        timedOut: result.timedOut,
      },
    };
  },
});

export const shellCloseTool = defineTool({
  name: "shell_close",
  description: "Close a shell opened with shell_open.",
  input: z.object({ shell_id: z.string().min(1).max(100).describe("The id shell_open returned") }),
  mutates: false,
  async execute(input, ctx) {
    const open = shells(ctx);
    const session = open.get(input.shell_id);
    if (!session) return unknownShell(input.shell_id, open);
    open.delete(input.shell_id);
    await session.close();
    return { output: `Closed shell ${input.shell_id}.` };
  },
});
