import { spawn } from "node:child_process";
import path from "node:path";
import type { Readable } from "node:stream";
import {
  type DriverCheck,
  type ExecRequest,
  type ExecResult,
  resolveLimits,
  type SandboxDriver,
  type SandboxProcess,
  type SandboxSpec,
  type SpawnRequest,
} from "./driver.ts";
import { ExecCapture, type ExitStatus } from "./exec-capture.ts";

/**
 * UNSAFE: runs project code directly on the host as Kiln's own user, with no isolation at all: it can
 * read the data dir, other projects and every secret Kiln can. Only for a single trusted operator on a
 * host that cannot sandbox, and only when `KILN_ALLOW_UNSANDBOXED=1` says so (ADR 0006).
 * Wall-clock and output limits still apply; the process group is killed on timeout.
 */
export class UnsafeHostDriver implements SandboxDriver {
  readonly name = "unsafe-host";
  readonly unsandboxed = true;
  readonly guestUid = process.getuid?.() ?? 0;

  workspaceOwner(): undefined {
    return undefined;
  }

  async check(): Promise<DriverCheck> {
    return {
      ok: true,
      problems: [],
      warnings: ["UNSANDBOXED: project code runs as Kiln's own user on the host (KILN_ALLOW_UNSANDBOXED=1)"],
    };
  }

  #start(sandbox: SandboxSpec, request: SpawnRequest) {
    const child = spawn(request.argv[0]!, request.argv.slice(1), {
      cwd: path.resolve(sandbox.workspaceDir, request.cwd ?? "."),
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        HOME: sandbox.workspaceDir,
        ...sandbox.env,
        ...request.env,
      },
      detached: true,
      stdio: ["pipe", "pipe", "pipe"],
    });
    const kill = () => {
      try {
        if (child.pid) process.kill(-child.pid, "SIGKILL");
      } catch {
        // group already gone
      }
    };
    const exited = new Promise<ExitStatus>((resolve) => {
      child.once("error", () => resolve({ exitCode: 127, signal: null, oomKilled: false }));
      child.once("close", (exitCode, signal) => resolve({ exitCode, signal, oomKilled: false }));
    });
    return { child, kill, exited };
  }

  async exec(sandbox: SandboxSpec, request: ExecRequest): Promise<ExecResult> {
    const limits = resolveLimits(sandbox.limits, request.limits);
    const capture = new ExecCapture(limits.outputBytes);
    const { child, kill, exited } = this.#start(sandbox, request);
    capture.attach(child);
    return capture.run({ stdin: child.stdin, kill, exited }, request, limits.wallClockMs);
  }

  async spawn(sandbox: SandboxSpec, request: SpawnRequest): Promise<SandboxProcess> {
    const { child, kill, exited } = this.#start(sandbox, request);
    if (!request.openStdin) child.stdin.end();
    return {
      pid: child.pid ?? -1,
      ...(request.openStdin ? { stdin: child.stdin } : {}),
      stdout: child.stdout as Readable,
      stderr: child.stderr as Readable,
      // Nothing to forward: the process listens on the host itself.
      exposePort: async (guestPort) => ({ host: "127.0.0.1", port: guestPort }),
      kill: async () => {
        kill();
        await exited;
      },
      exited,
    };
  }
}
