import type { Readable, Writable } from "node:stream";

/**
 * The runtime driver: where project code runs. Callers (dev servers, preview, terminal, the agent's
 * shell tool) hold a `SandboxSpec` per project and ask the driver to run commands in it. The `local`
 * driver runs each process in its own bubblewrap sandbox (ADR 0006); a Docker or Kubernetes driver
 * would map the same spec onto a container per project.
 */
export interface SandboxDriver {
  /** `local`, `unsafe-host`, later `docker`, `kubernetes`. */
  readonly name: string;
  /** True only for drivers that run code without isolation; callers must surface it to the operator. */
  readonly unsandboxed: boolean;
  /** The uid a project's processes see as their own (Node names its compile cache directory by it). */
  readonly guestUid: number;
  /** Whether this host can run sandboxes, and if not, why (shown by `kiln start`). */
  check(): Promise<DriverCheck>;
  /** Runs a command to completion with limits; output is captured (head + tail when too long). */
  exec(sandbox: SandboxSpec, request: ExecRequest): Promise<ExecResult>;
  /** Starts a long-running process (a dev server); its output streams, its ports can be exposed. */
  spawn(sandbox: SandboxSpec, request: SpawnRequest): Promise<SandboxProcess>;
  /**
   * The host uid/gid sandboxed code of this project runs as, when it differs from Kiln's own. Files Kiln
   * writes into a workspace (file API, templates) must be owned by it, or the sandbox cannot change them.
   */
  workspaceOwner(projectId: string): { uid: number; gid: number } | undefined;
  /** Frees what the driver keeps on the host (the local driver's run directory); after the last process. */
  close?(): void;
  /**
   * Frees what the driver keeps for one project between its commands (the local driver's idle cgroups and
   * warm network); when the project is deleted. Kept resources also expire when unused.
   */
  forget?(projectId: string): Promise<void>;
}

export interface DriverCheck {
  ok: boolean;
  /** Human-readable reasons the driver cannot isolate code on this host. */
  problems: string[];
  /** Things that work but weaker than intended (e.g. rlimits instead of cgroups). */
  warnings: string[];
}

export type NetworkPolicy =
  /** Only the sandbox's own loopback (and inbound connections to ports exposed with `exposePort`). */
  | "none"
  /** Outbound to the public internet; private, link-local, metadata and host addresses refused. */
  | "egress";

export interface Mount {
  hostPath: string;
  sandboxPath: string;
}

export interface SandboxSpec {
  projectId: string;
  /** Host directory mounted read-write at `/workspace`: the project's files. */
  workspaceDir: string;
  /** Extra read-only mounts, e.g. a shared template dependency cache. */
  readOnlyMounts?: Mount[];
  env?: Record<string, string>;
  limits?: Partial<ResourceLimits>;
  network?: NetworkPolicy;
}

export interface ResourceLimits {
  /** Memory of the whole process tree, bytes. */
  memoryBytes: number;
  /** Processes + threads of the tree (contains fork bombs). */
  maxProcesses: number;
  /** CPU cores worth of time (1 = one core). */
  cpu: number;
  /** Largest file any process may write, bytes (RLIMIT_FSIZE; a larger write fails with EFBIG). 0 = none. */
  fileBytes: number;
  /** `exec` only: the whole tree is killed after this long. */
  wallClockMs: number;
  /** `exec` only: bytes kept per stream (half head, half tail). */
  outputBytes: number;
}

export const DEFAULT_LIMITS: ResourceLimits = {
  memoryBytes: 1024 * 1024 * 1024,
  maxProcesses: 256,
  cpu: 1,
  fileBytes: 0,
  wallClockMs: 5 * 60_000,
  outputBytes: 256 * 1024,
};

export interface ExecRequest {
  argv: string[];
  /** Inside the sandbox; relative paths are under /workspace. Default /workspace. */
  cwd?: string;
  env?: Record<string, string>;
  stdin?: string | Buffer;
  /** Per-command overrides of the sandbox's limits. */
  limits?: Partial<ResourceLimits>;
  signal?: AbortSignal;
}

export interface ExecResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** True when the stream exceeded `outputBytes`; the middle was replaced by a marker line. */
  stdoutTruncated: boolean;
  stderrTruncated: boolean;
  timedOut: boolean;
  /** The kernel's OOM killer acted inside the sandbox (cgroups only; false when undetectable). */
  oomKilled: boolean;
  durationMs: number;
}

/** Like `ExecRequest`; `wallClockMs`/`outputBytes` do not apply. Consume both streams, or the process blocks. */
export type SpawnRequest = Omit<ExecRequest, "stdin" | "signal"> & {
  /** Keep stdin open as `SandboxProcess.stdin` (terminals); by default it is closed at once. */
  openStdin?: boolean;
  /**
   * Start the command while the sandbox's network is still being attached (a dev server spends its first
   * few hundred ms starting up, not on the network). Until it is attached the sandbox has no interface but
   * its loopback — nothing to reach — and its egress filter is in place before the interface appears.
   * `exposePort` waits for it.
   */
  startBeforeNetwork?: boolean;
  /**
   * The process never exposes a port (`exposePort` fails): with network `none` no network stack is attached
   * at all, which saves its start-up (a slirp4netns and a filter, tens of ms) and a process per sandbox.
   */
  noPorts?: boolean;
};

export interface SandboxProcess {
  /** Host pid of the process that owns the sandbox. */
  readonly pid: number;
  /** Only when spawned with `openStdin`. */
  readonly stdin?: Writable;
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** Makes a TCP port inside the sandbox reachable at `127.0.0.1:<port>` on the host. */
  exposePort(guestPort: number): Promise<{ host: "127.0.0.1"; port: number }>;
  /** Kills every process of this sandbox, including children that left the process group. */
  kill(): Promise<void>;
  readonly exited: Promise<{ exitCode: number | null; signal: NodeJS.Signals | null; oomKilled: boolean }>;
}

export function resolveLimits(...parts: (Partial<ResourceLimits> | undefined)[]): ResourceLimits {
  const out = { ...DEFAULT_LIMITS };
  for (const p of parts) {
    if (!p) continue;
    for (const [k, v] of Object.entries(p)) {
      if (v !== undefined) (out as Record<string, number>)[k] = v;
    }
  }
  return out;
}
