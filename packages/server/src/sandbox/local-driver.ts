import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { constants as osConstants, tmpdir } from "node:os";
import path from "node:path";
import { PassThrough, type Readable, type Writable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { CgroupV1 } from "./cgroup.ts";
import {
  type DriverCheck,
  type ExecRequest,
  type ExecResult,
  type ResourceLimits,
  resolveLimits,
  type SandboxDriver,
  type SandboxProcess,
  type SandboxSpec,
  type SpawnRequest,
} from "./driver.ts";
import { ExecCapture, type ExitStatus } from "./exec-capture.ts";
import { installFilter, Slirp, type Tools } from "./network.ts";
import { OutputCapture } from "./output.ts";
import { baseEnv, findNpmDir, rootArgs, SANDBOX_GID, SANDBOX_UID, writeEtc } from "./sandbox-root.ts";
import { chownWorkspace } from "./workspace-owner.ts";

export interface LocalDriverOptions {
  /** First host uid/gid of the range sandboxes run as when Kiln runs as root (one per project). */
  hostIdBase?: number;
  /** Size of each sandbox's private /tmp (tmpfs, charged to its memory cgroup). */
  tmpBytes?: number;
}

const SEARCH_PATH = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];

function which(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? "").split(":").filter(Boolean), ...SEARCH_PATH];
  for (const dir of dirs) {
    const p = path.join(dir, name);
    if (existsSync(p)) return p;
  }
  return undefined;
}

/**
 * A stable unprivileged host uid per project (FNV-1a into 60,000 ids). Mount namespaces are what keep
 * projects apart; distinct uids are a second layer, so a rare hash collision only weakens that layer.
 */
export function projectHostId(projectId: string, base: number): number {
  let h = 0x811c9dc5;
  for (const ch of Buffer.from(projectId)) h = Math.imul(h ^ ch, 0x01000193) >>> 0;
  return base + (h % 60_000);
}

interface Launched {
  child: ChildProcess;
  cgroup: CgroupV1 | undefined;
  /** The network stack, once attached (at once unless started before the network). */
  slirp: Promise<Slirp | undefined>;
  /** Kills the whole tree: every process of the cgroup, then the outer bwrap if it is still there. */
  kill(): Promise<void>;
  /** Resolves after exit and cleanup. */
  exited: Promise<ExitStatus>;
}

/**
 * Runs every command in its own bubblewrap sandbox (ADR 0006): fresh user/pid/ipc/uts/mount/network
 * namespaces, a root assembled from read-only pieces, the project at /workspace, cgroup v1 limits.
 */
export class LocalDriver implements SandboxDriver {
  readonly name = "local";
  readonly unsandboxed = false;
  readonly guestUid = SANDBOX_UID;
  readonly #options: Required<LocalDriverOptions>;
  readonly #runDir: string;
  readonly #etcDir: string;
  readonly #npmDir: string | undefined;
  readonly #isRoot = process.getuid?.() === 0;
  readonly #tools: Partial<Tools> & { unshare?: string; mount?: string };
  #cgroups: Promise<string | undefined> | undefined;
  #checked: Promise<DriverCheck> | undefined;

  constructor(options: LocalDriverOptions = {}) {
    this.#options = { hostIdBase: 200_000, tmpBytes: 512 * 1024 * 1024, ...options };
    this.#runDir = mkdtempSync(path.join(tmpdir(), "kiln-runtime-"));
    // Traversable but not listable: the unprivileged bwrap must reach the generated /etc files.
    chmodSync(this.#runDir, 0o711);
    this.#etcDir = writeEtc(this.#runDir);
    this.#npmDir = findNpmDir();
    this.#tools = {
      bwrap: which("bwrap"),
      slirp4netns: which("slirp4netns"),
      nsenter: which("nsenter"),
      iptablesRestore: which("iptables-restore"),
      setpriv: which("setpriv"),
      prlimit: which("prlimit"),
      unshare: which("unshare"),
      mount: which("mount"),
    };
  }

  workspaceOwner(projectId: string): { uid: number; gid: number } | undefined {
    if (!this.#isRoot) return undefined;
    const id = projectHostId(projectId, this.#options.hostIdBase);
    return { uid: id, gid: id };
  }

  /** Removes the driver's run directory (generated /etc, API sockets). */
  close(): void {
    try {
      // A sandbox still exiting may add a socket while the tree is removed; retry, and never fail a shutdown
      // over a leftover temp directory.
      rmSync(this.#runDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
    } catch {
      // Left in the OS temp dir; harmless.
    }
  }

  /** Empty mount points for the staging binds (`ws`, `ro0`…), shared by all launches. */
  #stageDir(readOnlyMounts: number): string {
    const stage = path.join(this.#runDir, "stage");
    for (const name of ["ws", ...Array.from({ length: readOnlyMounts }, (_, i) => `ro${i}`)]) {
      mkdirSync(path.join(stage, name), { recursive: true, mode: 0o755 });
    }
    return stage;
  }

  #cgroupProblem(): Promise<string | undefined> {
    this.#cgroups ??= this.#isRoot ? CgroupV1.available() : Promise.resolve("not running as root");
    return this.#cgroups;
  }

  /** Runs real probe sandboxes once per driver; later calls (start-up banner, status pages) reuse the answer. */
  check(): Promise<DriverCheck> {
    this.#checked ??= this.#probe();
    return this.#checked;
  }

  async #probe(): Promise<DriverCheck> {
    const problems: string[] = [];
    const warnings: string[] = [];
    const install =
      "run scripts/setup-system.sh as root (apt-get install -y bubblewrap slirp4netns iptables)";
    for (const [key, pkg] of [
      ["bwrap", "bubblewrap"],
      ["slirp4netns", "slirp4netns"],
      ["iptablesRestore", "iptables"],
      ["nsenter", "util-linux"],
      ["setpriv", "util-linux"],
      ["unshare", "util-linux"],
      ["mount", "mount"],
    ] as const) {
      if (!this.#tools[key]) problems.push(`${pkg} is not installed: ${install}`);
    }
    if (!this.#isRoot) {
      problems.push(
        "Kiln must run as root to give sandboxes their own uids, cgroups and network filters (ADR 0006)",
      );
    }
    const cg = await this.#cgroupProblem();
    if (cg) warnings.push(`${cg}; memory and process limits fall back to rlimits (weaker)`);
    if (!this.#npmDir) warnings.push("npm not found on the host; `npm` will not work inside sandboxes");
    if (problems.length === 0) {
      const dir = mkdtempSync(path.join(tmpdir(), "kiln-check-"));
      try {
        const r = await this.exec(
          { projectId: "kiln-check", workspaceDir: dir },
          { argv: ["/bin/sh", "-c", "echo ok"], limits: { wallClockMs: 10_000 } },
        );
        if (r.exitCode !== 0 || r.stdout.trim() !== "ok") {
          problems.push(
            `bubblewrap cannot create a sandbox here: ${r.stderr.trim() || `exit ${r.exitCode}`}`,
          );
        } else {
          // The network stack too: slirp4netns attached and the filter loaded (needs nf_tables in the kernel).
          const n = await this.exec(
            { projectId: "kiln-check", workspaceDir: dir, network: "egress" },
            { argv: ["/bin/sh", "-c", "echo ok"], limits: { wallClockMs: 10_000 } },
          );
          if (n.exitCode !== 0 || n.stdout.trim() !== "ok") {
            problems.push(
              `sandbox networking does not work here: ${n.stderr.trim() || `exit ${n.exitCode}`}`,
            );
          }
        }
      } catch (error) {
        problems.push(`bubblewrap cannot create a sandbox here: ${(error as Error).message}`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    return { ok: problems.length === 0, problems, warnings };
  }

  async exec(sandbox: SandboxSpec, request: ExecRequest): Promise<ExecResult> {
    const limits = resolveLimits(sandbox.limits, request.limits);
    const capture = new ExecCapture(limits.outputBytes);
    let p: Launched;
    try {
      p = await this.#launch(sandbox, request, limits, {
        exposable: false,
        onSpawn: (child) => capture.attach(child),
      });
    } catch (error) {
      // The sandbox could not be set up (bwrap's reason is on stderr); nothing of the command ran.
      const none = { exitCode: null, signal: null, oomKilled: false };
      return capture.result(none, false, `${(error as Error).message}\n`);
    }
    return capture.run({ stdin: p.child.stdin, kill: p.kill, exited: p.exited }, request, limits.wallClockMs);
  }

  async spawn(sandbox: SandboxSpec, request: SpawnRequest): Promise<SandboxProcess> {
    const limits = resolveLimits(sandbox.limits, request.limits);
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const early = new OutputCapture(4096);
    let p: Launched;
    try {
      p = await this.#launch(sandbox, request, limits, {
        exposable: true,
        onSpawn: (child) => {
          child.stdout?.pipe(stdout);
          child.stderr?.on("data", (d: Buffer) => early.push(d));
          child.stderr?.pipe(stderr);
        },
      });
    } catch (error) {
      throw new Error(`${(error as Error).message}: ${early.text().trim()}`, { cause: error });
    }
    const stdin = p.child.stdin as Writable;
    if (!request.openStdin) stdin.end();
    return {
      pid: p.child.pid ?? -1,
      ...(request.openStdin ? { stdin } : {}),
      stdout,
      stderr,
      exposePort: async (guestPort) => {
        const slirp = await p.slirp;
        if (!slirp) throw new Error("this sandbox has no network stack to forward ports through");
        return { host: "127.0.0.1", port: await slirp.addHostForward(guestPort) };
      },
      kill: async () => {
        await p.kill();
        await p.exited;
      },
      exited: p.exited,
    };
  }

  async #launch(
    sandbox: SandboxSpec,
    request: SpawnRequest,
    limits: ResourceLimits,
    o: { exposable: boolean; onSpawn: (child: ChildProcess) => void },
  ): Promise<Launched> {
    const tools = this.#tools;
    if (!tools.bwrap || !tools.unshare || !tools.mount) {
      throw new Error("bubblewrap or util-linux is missing (run scripts/setup-system.sh)");
    }
    const network = sandbox.network ?? "none";
    // A network stack (slirp4netns + filter) only when something must cross the namespace boundary.
    const needsNet = network === "egress" || o.exposable;
    if (needsNet && (!this.#isRoot || !tools.slirp4netns || !tools.nsenter || !tools.iptablesRestore)) {
      throw new Error("sandbox networking needs root, slirp4netns, nsenter and iptables (ADR 0006)");
    }
    const workspace = path.resolve(sandbox.workspaceDir);
    const hostId = this.#isRoot ? projectHostId(sandbox.projectId, this.#options.hostIdBase) : undefined;
    if (hostId !== undefined) await ensureOwner(workspace, hostId);

    const id = `${sandbox.projectId.replace(/[^a-zA-Z0-9_-]/g, "_")}-${randomBytes(4).toString("hex")}`;
    const cgroup = (await this.#cgroupProblem()) ? undefined : new CgroupV1(id);
    await cgroup?.create(limits);

    const cwd = path.posix.resolve("/workspace", request.cwd ?? ".");
    const env: Record<string, string> = {
      ...baseEnv(),
      ...sandbox.env,
      ...request.env,
    };
    const bwrap = [
      tools.bwrap,
      "--unshare-user",
      "--unshare-pid",
      "--unshare-ipc",
      "--unshare-uts",
      "--unshare-net",
      "--unshare-cgroup-try",
      "--disable-userns",
      "--die-with-parent",
      "--new-session",
      "--cap-drop",
      "ALL",
      "--uid",
      String(SANDBOX_UID),
      "--gid",
      String(SANDBOX_GID),
      "--hostname",
      "kiln",
      ...rootArgs(
        { ...sandbox, workspaceDir: workspace },
        {
          etcDir: this.#etcDir,
          npmDir: this.#npmDir,
          network,
          tmpBytes: this.#options.tmpBytes,
          stageDir: this.#stageDir(sandbox.readOnlyMounts?.length ?? 0),
        },
      ),
      "--chdir",
      cwd,
      "--clearenv",
      ...Object.entries(env).flatMap(([k, v]) => ["--setenv", k, v]),
      ...(needsNet
        ? ["--info-fd", "3", "--", "/bin/sh", "-c", request.startBeforeNetwork ? NO_GATE : GATE, "kiln-gate"]
        : ["--"]),
      ...request.argv,
    ];
    const prefix: string[] = [];
    const rlimits: string[] = [];
    if (!cgroup) {
      // Fallback limits. RLIMIT_NPROC counts per host uid, which is per project here; RLIMIT_DATA (not
      // RLIMIT_AS) because V8 reserves far more address space than it ever touches.
      rlimits.push(`--nproc=${limits.maxProcesses}`, `--data=${limits.memoryBytes}`);
    }
    // No single file beyond the project's disk quota (limits/disk-quota.ts): there is no kernel quota here.
    if (limits.fileBytes > 0) rlimits.push(`--fsize=${limits.fileBytes}`);
    if (rlimits.length > 0 && tools.prlimit) prefix.push(tools.prlimit, ...rlimits, "--");
    if (hostId !== undefined && tools.setpriv) {
      prefix.push(tools.setpriv, `--reuid=${hostId}`, `--regid=${hostId}`, "--clear-groups", "--");
    }
    const sources = [workspace, ...(sandbox.readOnlyMounts ?? []).map((m) => m.hostPath)];
    const stage = path.join(this.#runDir, "stage");
    const mounts = sources.map(
      (_, i) => `${tools.mount} --bind -- "$${i + 1}" '${stage}/${i === 0 ? "ws" : `ro${i - 1}`}'`,
    );
    // Kiln may have inherited descriptors without close-on-exec from whoever started it (npm, a
    // supervisor); none may reach the sandbox. 0-2 are stdio, 3 bwrap's info pipe, 4 the start gate.
    const closeFds = `for f in /proc/$$/fd/*; do n=\${f##*/}; if [ "$n" -ge 5 ]; then eval "exec $n>&-"; fi; done`;
    const script = [
      closeFds,
      ...(cgroup ? [cgroup.joinScript()] : []),
      ...mounts,
      `shift ${sources.length}`,
      'exec "$@"',
    ].join(" && ");
    // The private mount namespace only holds the staging bind mounts; bwrap builds the real root.
    const child = spawn(
      tools.unshare as string,
      [
        "--mount",
        "--propagation",
        "private",
        "--",
        "/bin/bash",
        "--norc",
        "--noprofile",
        "-c",
        script,
        "kiln-sandbox",
        ...sources,
        ...prefix,
        ...bwrap,
      ],
      {
        stdio: ["pipe", "pipe", "pipe", needsNet ? "pipe" : "ignore", needsNet ? "pipe" : "ignore"],
        env: {},
      },
    );

    // A sandbox that dies early resets these pipes; that is reported through `exited`, not as a crash.
    for (const stream of child.stdio) stream?.on("error", () => {});
    o.onSpawn(child);
    let slirp: Slirp | undefined;
    let killed = false;
    let closed = false;
    child.once("close", () => {
      closed = true;
    });
    const kill = async () => {
      killed = true;
      if (cgroup) {
        await cgroup.killAll(child.pid);
        for (let i = 0; i < 100 && !closed; i++) await sleep(10);
      }
      // Without cgroups (or if bwrap did not exit): --die-with-parent takes the sandbox down with it.
      if (!closed) child.kill("SIGKILL");
      slirp?.stop();
    };
    const exited = new Promise<ExitStatus>((resolve) => {
      child.once("close", async (code, signal) => {
        slirp?.stop();
        const oomKilled = (await cgroup?.oomKilled()) ?? false;
        await cgroup?.destroy();
        resolve({ exitCode: code, signal: signal ?? signalFromStatus(code), oomKilled });
      });
    });
    const spawned = new Promise<void>((resolve, reject) => {
      child.once("spawn", resolve);
      child.once("error", reject);
    });
    let attached: Promise<Slirp | undefined> = Promise.resolve(undefined);
    try {
      await spawned;
      if (needsNet) {
        const gate = child.stdio[4] as Readable & Writable;
        const ready = firstData(gate);
        // Awaited below; when bwrap dies before reporting its pid, that error wins and this one must not
        // surface as an unhandled rejection.
        ready.catch(() => {});
        const pid = await readChildPid(child.stdio[3] as Readable);
        await ready;
        if (request.startBeforeNetwork) {
          // The command runs already, with nothing but loopback: the filter goes in before the interface.
          attached = (async () => {
            await installFilter(pid, network, tools as Tools);
            if (killed) return undefined;
            slirp = await Slirp.start(pid, this.#runDir, tools as Tools);
            if (killed || closed) slirp.stop();
            return slirp;
          })();
          // A sandbox whose network cannot be attached must not run on without it being noticed.
          attached.catch(() => void kill());
        } else {
          // Independent of each other (the rules name no interface but lo), and the gate holds the user's
          // command until both are done: in parallel they cost one process start, not two.
          const [started, filtered] = await Promise.allSettled([
            Slirp.start(pid, this.#runDir, tools as Tools),
            installFilter(pid, network, tools as Tools),
          ]);
          if (started.status === "fulfilled") slirp = started.value;
          if (started.status === "rejected") throw started.reason;
          if (filtered.status === "rejected") throw filtered.reason;
          if (killed) throw new Error("sandbox was killed while starting");
          gate.write("go\n");
          attached = Promise.resolve(slirp);
        }
      }
    } catch (error) {
      await kill();
      await exited;
      throw error;
    }
    return { child, cgroup, slirp: attached, kill, exited };
  }
}

/**
 * First process inside a sandbox with a network stack: says "ready" once bwrap has finished setting
 * the sandbox up (bwrap's own loopback configuration races with slirp4netns otherwise, and bwrap's
 * `--block-fd` waits too early to help), waits for Kiln to attach the network and its filter, closes
 * its channel and only then execs the user's command.
 */
const GATE = 'echo ready >&4 && read -r _ <&4 && exec 4>&- && exec "$@"';
/** The same first process for `startBeforeNetwork`: says "ready" (bwrap is done) and runs the command. */
const NO_GATE = 'echo ready >&4 && exec 4>&- && exec "$@"';

/** bwrap exits with 128 + n when the sandboxed command died of signal n. */
function signalFromStatus(code: number | null): NodeJS.Signals | null {
  if (code === null || code <= 128) return null;
  const n = code - 128;
  const entry = Object.entries(osConstants.signals).find(([, v]) => v === n);
  return (entry?.[0] as NodeJS.Signals | undefined) ?? null;
}

function firstData(stream: Readable): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.once("data", () => resolve());
    stream.once("close", () => reject(new Error("the sandbox exited while starting")));
  });
}

/** bwrap's `--info-fd` JSON: we need `child-pid`, the sandbox's pid-namespace init seen from the host. */
async function readChildPid(stream: Readable): Promise<number> {
  let text = "";
  for await (const chunk of stream) {
    text += String(chunk);
    try {
      const info = JSON.parse(text) as { "child-pid"?: number };
      if (typeof info["child-pid"] === "number") return info["child-pid"];
    } catch {
      // incomplete JSON so far
    }
  }
  throw new Error(`bwrap did not report its child pid: ${text}`);
}

/**
 * The sandbox user is the project's own unprivileged host uid, so the workspace must belong to it.
 * Files Kiln writes later as root (file API, templates) should be created with that owner too.
 */
async function ensureOwner(dir: string, id: number): Promise<void> {
  const st = statSync(dir);
  if (st.uid === id && st.gid === id) return;
  // Not `chown -R`: hard-linked dependency files are shared with every project (ADR 0007) and stay root's.
  await chownWorkspace(dir, id, id);
}
