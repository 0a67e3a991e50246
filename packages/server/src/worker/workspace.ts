import { DirWorkspace, type Workspace, type WorkspaceExecResult } from "@kiln/agent";
import type { SandboxDriver, SandboxSpec } from "../sandbox/driver.ts";

/**
 * The clone as the agent sees it: files through path-checked host I/O, commands in the sandbox. What the
 * tools create is given to the sandbox user through its own descriptor as it is made (`owner`).
 */
export function sandboxedWorkspace(
  dir: string,
  projectId: string,
  driver: SandboxDriver,
  owner: { uid: number; gid: number } | undefined,
): Workspace {
  const spec = (network: boolean): SandboxSpec => ({
    projectId,
    workspaceDir: dir,
    network: network ? "egress" : "none",
  });
  return new DirWorkspace({
    root: dir,
    ...(owner ? { owner } : {}),
    exec: async (command, o): Promise<WorkspaceExecResult> => {
      const r = await driver.exec(spec(o.network), {
        argv: ["bash", "-lc", command],
        cwd: o.cwd ? `/workspace/${o.cwd}` : "/workspace",
        limits: { wallClockMs: o.timeoutMs, outputBytes: 64 * 1024 },
        ...(o.signal ? { signal: o.signal } : {}),
      });
      return {
        exitCode: r.exitCode,
        stdout: r.stdout,
        stderr: r.stderr,
        timedOut: r.timedOut,
        truncated: r.stdoutTruncated || r.stderrTruncated,
        durationMs: r.durationMs,
      };
    },
  });
}
