import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import nodePath from "node:path";
import type { DirExec } from "../dir-workspace.ts";
import { shellSessionOverProcess } from "../shell-session.ts";
import { truncateMiddle } from "../text.ts";
import type { ShellSession } from "../workspace.ts";

/**
 * For the agent package's own tests only: runs commands directly on the host in the workspace directory,
 * with no sandbox. The server and worker plug the runtime driver's sandbox in instead.
 */
export function unsandboxedHostExec(root: string): DirExec {
  return (command, options) =>
    new Promise((resolve) => {
      const started = performance.now();
      const child = spawn("bash", ["-c", command], {
        cwd: nodePath.join(root, options.cwd),
        stdio: ["ignore", "pipe", "pipe"],
        detached: true,
      });
      let stdout = "";
      let stderr = "";
      let timedOut = false;
      child.stdout.on("data", (c) => {
        stdout += c;
      });
      child.stderr.on("data", (c) => {
        stderr += c;
      });
      const kill = () => {
        try {
          process.kill(-child.pid!, "SIGKILL");
        } catch {}
      };
      const timer = setTimeout(() => {
        timedOut = true;
        kill();
      }, options.timeoutMs);
      options.signal?.addEventListener("abort", kill, { once: true });
      child.on("close", (code) => {
        clearTimeout(timer);
        options.signal?.removeEventListener("abort", kill);
        const out = truncateMiddle(stdout, 16_000);
        const err = truncateMiddle(stderr, 16_000);
        resolve({
          exitCode: code,
          stdout: out.text,
          stderr: err.text,
          timedOut,
          truncated: out.truncated || err.truncated,
          durationMs: performance.now() - started,
        });
      });
    });
}

export function unsandboxedHostShell(root: string): () => Promise<ShellSession> {
  return async () => {
    const child = spawn("bash", ["--noprofile", "--norc"], {
      cwd: root,
      stdio: ["pipe", "pipe", "pipe"],
      detached: true,
    });
    const exited = new Promise((resolve) => child.on("close", resolve));
    return shellSessionOverProcess(`sh_${randomUUID().slice(0, 8)}`, {
      stdin: child.stdin,
      stdout: child.stdout,
      stderr: child.stderr,
      exited,
      kill: async () => {
        try {
          process.kill(-child.pid!, "SIGKILL");
        } catch {}
        await exited;
      },
    });
  };
}
