import { z } from "zod";
import { defineTool } from "../tool.ts";
import type { WorkspaceExecResult } from "../workspace.ts";

const DEFAULT_TIMEOUT_S = 120;
const MAX_TIMEOUT_S = 600;

export const bashTool = defineTool({
  name: "bash",
  description:
    "Run a shell command (bash -lc) in the project's sandbox, with the project root as the working directory. " +
    "Each call is a fresh shell: `cd` and variables do not carry over (use shell_open/shell_run for that). " +
    "Long output keeps its beginning and end. Do not start servers that never exit here; the preview runs the dev server.",
  input: z.object({
    command: z.string().min(1).max(20_000).describe("The command line, e.g. npm test -- --run"),
    timeout_seconds: z
      .number()
      .min(0.1)
      .max(MAX_TIMEOUT_S)
      .optional()
      .describe(
        `Stop the command after this many seconds (default ${DEFAULT_TIMEOUT_S}, at most ${MAX_TIMEOUT_S})`,
      ),
    cwd: z.string().optional().describe("Working directory relative to the project root (default the root)"),
    network: z.boolean().optional().describe("Allow outbound network, e.g. for npm install (default false)"),
  }),
  mutates: true,
  // The command's own timeout plus time for the sandbox to stop it and report.
  timeoutMs: (input) => ((input.timeout_seconds ?? DEFAULT_TIMEOUT_S) + 15) * 1000,
  maxOutputChars: 40_000,
  async execute(input, ctx) {
    const timeoutMs = (input.timeout_seconds ?? DEFAULT_TIMEOUT_S) * 1000;
    const result = await ctx.workspace.exec(input.command, {
      timeoutMs,
      cwd: input.cwd,
      signal: ctx.signal,
      network: input.network ?? false,
    });
    return {
      output: formatExecResult(result, timeoutMs),
      isError: result.exitCode !== 0,
      metadata: {
        command: input.command,
        exitCode: result.exitCode,
        timedOut: result.timedOut,
        truncated: result.truncated,
        durationMs: result.durationMs,
      },
    };
  },
});

export function formatExecResult(result: WorkspaceExecResult, timeoutMs: number): string {
  const parts: string[] = [];
  const stdout = result.stdout.replace(/\n$/, "");
  const stderr = result.stderr.replace(/\n$/, "");
  if (stdout) parts.push(stdout);
  if (stderr) parts.push(`[stderr]\n${stderr}`);
  if (!stdout && !stderr) parts.push("(no output)");
  if (result.truncated) parts.push("[output was cut in the middle]");
  if (result.timedOut)
    parts.push(`[timed out after ${Number((timeoutMs / 1000).toFixed(1))} s; the command was killed]`);
  parts.push(`[exit code ${result.exitCode ?? "none (killed by a signal)"}]`);
  return parts.join("\n");
}
