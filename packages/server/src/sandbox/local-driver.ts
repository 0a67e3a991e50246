import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { constants as osConstants, tmpdir } from "node:os";
import path from "node:path";
import { PassThrough, type Readable, type Writable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import type { EgressAllowEntry } from "@kiln/agent";
import { CgroupV1 } from "./cgroup.ts";
import { sweepOrphansEvery } from "./cgroup-owner.ts";
import { CgroupPool } from "./cgroup-pool.ts";
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
import { EtcTrees } from "./etc-tree.ts";
import { ExecCapture, type ExitStatus } from "./exec-capture.ts";
import { installFilter, Slirp, type Tools } from "./network.ts";
import { OutputCapture } from "./output.ts";
import { baseEnv, findNpmDir, rootArgs, SANDBOX_GID, SANDBOX_UID, writeEtc } from "./sandbox-root.ts";
import { type WarmNet, WarmNets } from "./warm-net.ts";
import { chownWorkspace } from "./workspace-owner.ts";

export interface LocalDriverOptions {
  /** First host uid/gid of the range sandboxes run as when Kiln runs as root (one per project). */
  hostIdBase?: number;
  /** Size of each sandbox's private /tmp (tmpfs, charged to its memory cgroup). */
  tmpBytes?: number;
  /** The operator's egress exemptions (KILN_EGRESS_ALLOW): its addresses pass the egress filter. */
  egressAllow?: readonly EgressAllowEntry[];
  /** Told how many sandbox cgroups of Kiln processes that died on this host were ended (cgroup-owner.ts). */
  onOrphansEnded?: (groups: number) => void;
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
  readonly #etcTrees: EtcTrees;
  readonly #npmDir: string | undefined;
  readonly #isRoot = process.getuid?.() === 0;
  readonly #tools: Partial<Tools> & { unshare?: string; mount?: string };
  #cgroups: Promise<string | undefined> | undefined;
  readonly #pool = new CgroupPool();
  /** One wrapper chain waiting per (project, network, mounts), for the project's next command. */
  readonly #standbys = new Map<string, Chain>();
  /** Standby chains being started, per chain key: a command arriving meanwhile waits for it. */
  readonly #replenishing = new Map<string, Promise<unknown>>();
  readonly #goDir: string;
  #closed = false;
  #nets: WarmNets | undefined;
  /** How many read-only staging mount points exist (made once; every launch reuses them). */
  #staged = -1;
  #checked: Promise<DriverCheck> | undefined;
  /** Stops the sweep for sandboxes left by Kiln processes that died (cgroup-owner.ts). */
  readonly #stopSweep: () => void;

  constructor(options: LocalDriverOptions = {}) {
    this.#options = {
      hostIdBase: 200_000,
      tmpBytes: 512 * 1024 * 1024,
      egressAllow: [],
      onOrphansEnded: () => {},
      ...options,
    };
    this.#runDir = mkdtempSync(path.join(tmpdir(), "kiln-runtime-"));
    // Traversable but not listable: the unprivileged bwrap must reach the generated /etc files.
    chmodSync(this.#runDir, 0o711);
    this.#etcDir = writeEtc(this.#runDir);
    this.#etcTrees = new EtcTrees(this.#etcDir);
    // Commands' arguments files (their environment may hold the project's secrets): root's only, in memory
    // where the host has a tmpfs for it, removed when each command ends.
    if (existsSync("/dev/shm")) removeOrphanArgDirs("/dev/shm");
    this.#goDir = existsSync("/dev/shm")
      ? mkdtempSync(path.join("/dev/shm", `kiln-args-${process.pid}-`))
      : path.join(this.#runDir, "args");
    mkdirSync(this.#goDir, { recursive: true, mode: 0o700 });
    chmodSync(this.#goDir, 0o700);
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
    this.#stopSweep = this.#isRoot
      ? sweepOrphansEvery(ORPHAN_SWEEP_MS, (names) => this.#options.onOrphansEnded(names.length))
      : () => {};
  }

  workspaceOwner(projectId: string): { uid: number; gid: number } | undefined {
    if (!this.#isRoot) return undefined;
    const id = projectHostId(projectId, this.#options.hostIdBase);
    return { uid: id, gid: id };
  }

  /** Frees what is kept for `projectId` between its commands (idle cgroups); call when it stops or is deleted. */
  async forget(projectId: string): Promise<void> {
    const key = cgroupKey(projectId);
    const ended: Promise<unknown>[] = [];
    for (const [chainKey, chain] of this.#standbys) {
      if ((JSON.parse(chainKey) as string[])[0] !== key) continue;
      this.#standbys.delete(chainKey);
      chain.dispose();
      ended.push(chain.exited);
    }
    await Promise.all(ended);
    this.#nets?.forget(cgroupKey(projectId));
    await this.#pool.forget(cgroupKey(projectId));
  }

  /** Ids of the cgroups kept for `projectId`'s next commands (tests, status). */
  idleCgroups(projectId: string): string[] {
    return this.#pool.idle(cgroupKey(projectId)).map((g) => g.id);
  }

  /** Removes the driver's run directory (generated /etc, API sockets) and its idle cgroups. */
  close(): void {
    this.#closed = true;
    this.#stopSweep();
    for (const chain of this.#standbys.values()) chain.dispose();
    this.#standbys.clear();
    this.#nets?.close();
    this.#pool.close();
    try {
      // A sandbox still exiting may add a socket while the tree is removed; retry, and never fail a shutdown
      // over a leftover temp directory.
      rmSync(this.#goDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
      rmSync(this.#runDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
    } catch {
      // Left in the OS temp dir; harmless.
    }
  }

  /** Empty mount points for the staging binds (`ws`, `ro0`…), shared by all launches. */
  #stageDir(readOnlyMounts: number): string {
    const stage = path.join(this.#runDir, "stage");
    if (readOnlyMounts <= this.#staged) return stage;
    this.#staged = readOnlyMounts;
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
        exposable: !request.noPorts,
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

  /** The standby chain waiting for `chainKey`, if it can still be used (alive, fresh, same workspace). */
  #takeStandby(chainKey: string, workspace: string): Chain | undefined {
    const chain = this.#standbys.get(chainKey);
    if (!chain) return undefined;
    this.#standbys.delete(chainKey);
    const st = statSync(workspace);
    if (
      !chain.waiting() ||
      Date.now() - chain.born > STANDBY_MS ||
      st.ino !== chain.ino ||
      st.dev !== chain.dev
    ) {
      chain.dispose();
      return undefined;
    }
    return chain;
  }

  /** After a command took the standby for `start.chainKey`: start the next one, off the critical path. */
  #replenish(start: ChainStart): void {
    const { chainKey } = start;
    if (this.#closed || this.#standbys.has(chainKey) || this.#replenishing.has(chainKey)) return;
    const pending = this.#startChain(start)
      .then((chain) => {
        if (this.#closed || this.#standbys.has(chainKey)) return chain.dispose();
        this.#standbys.set(chainKey, chain);
        const timer = setTimeout(() => {
          if (this.#standbys.get(chainKey) !== chain) return;
          this.#standbys.delete(chainKey);
          chain.dispose();
        }, STANDBY_MS);
        timer.unref();
      })
      .catch(() => {})
      .finally(() => this.#replenishing.delete(chainKey));
    this.#replenishing.set(chainKey, pending);
  }

  /**
   * Starts the wrapper chain of a command up to the point where it needs the command itself: as root,
   * in a private mount namespace with the project's directories staged, its cgroups joined (each join is
   * a cgroup migration, milliseconds of kernel time: paid here, ahead of the command), the warm network
   * joined for egress. It then waits on fd 4 for the path of its arguments file; `go` sends it, and the
   * chain drops to the project's uid (setpriv) and execs bwrap with exactly the arguments a direct launch
   * would have. A chain that is never used is ended by `dispose` (EOF on fd 4: the wrapper exits).
   */
  async #startChain(start: ChainStart): Promise<Chain> {
    const tools = this.#tools as Tools & { unshare: string; mount: string };
    const { key, sources, prefix, joinsWarm, limits, workspace } = start;
    const st = statSync(workspace);
    const cgroup = await this.#pool.acquire(key, limits);
    let warm: WarmNet | undefined;
    if (joinsWarm) {
      this.#nets ??= new WarmNets(tools, this.#runDir, this.#options.egressAllow);
      try {
        warm = await this.#nets.acquire(key);
      } catch (error) {
        void this.#pool.release(key, cgroup).catch(() => {});
        throw error;
      }
    }
    const stage = path.join(this.#runDir, "stage");
    this.#stageDir(sources.length - 1);
    const mounts = sources.map(
      (_, i) => `${tools.mount} --bind -- "$${i + 1}" '${stage}/${i === 0 ? "ws" : `ro${i - 1}`}'`,
    );
    // As in a direct launch: no inherited descriptor reaches the sandbox; 3 was nsenter's, 4 is ours.
    const closeFds = `for f in /proc/$$/fd/*; do n=\${f##*/}; if [ "$n" -ge 5 ]; then eval "exec $n>&-"; fi; done`;
    const script = [
      closeFds,
      "exec 3>&-",
      cgroup.joinScript(),
      ...mounts,
      `shift ${sources.length}`,
      "IFS= read -r go <&4",
      "exec 4<&-",
      `mapfile -d '' -t a < "$go"`,
      // biome-ignore lint/suspicious/noTemplateCurlyInString: bash's array syntax, not a template
      'ulimit -f "${a[0]}"',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: bash's array syntax, not a template
      'exec "$@" "${a[@]:1}"',
    ].join(" && ");
    const unshare = wrapperArgv(tools.unshare, script, [...sources, ...prefix, tools.bwrap]);
    const argv = warm ? [tools.nsenter, "--net=/proc/self/fd/3", "--", ...unshare] : unshare;
    const child = spawn(argv[0]!, argv.slice(1), {
      stdio: ["pipe", "pipe", "pipe", warm ? warm.fd : "ignore", "pipe"],
      env: {},
    });
    for (const stream of child.stdio) stream?.on("error", () => {});
    const watched = this.#watch(child, key, cgroup, warm);
    try {
      await new Promise<void>((resolve, reject) => {
        child.once("spawn", resolve);
        child.once("error", reject);
      });
    } catch (error) {
      await watched.kill();
      await watched.exited;
      throw error;
    }
    const control = child.stdio[4] as Writable;
    // Waiting, it must not keep Kiln (or a one-shot CLI) running; `go` makes it count again.
    holdsLoop(child, false);
    return {
      child,
      cgroup,
      ...watched,
      born: Date.now(),
      ino: st.ino,
      dev: st.dev,
      waiting: () => !watched.closed() && child.exitCode === null && child.signalCode === null,
      go: (file) => {
        holdsLoop(child, true);
        control.end(`${file}\n`);
      },
      // Counted again until it has exited: `forget` and `close` wait for that.
      dispose: () => {
        holdsLoop(child, true);
        control.end();
      },
    };
  }

  /** Exit and kill handling of a chain: the answer first, the cgroup's return to the pool after it. */
  #watch(
    child: ChildProcess,
    key: string,
    cgroup: CgroupV1,
    warm: WarmNet | undefined,
  ): { exited: Promise<ExitStatus>; kill(): Promise<void>; closed(): boolean } {
    let closed = false;
    child.once("close", () => {
      closed = true;
    });
    const kill = async () => {
      await cgroup.killAll(child.pid);
      for (let i = 0; i < 100 && !closed; i++) await sleep(10);
      if (!closed) child.kill("SIGKILL");
    };
    const exited = new Promise<ExitStatus>((resolve) => {
      child.once("close", async (code, signal) => {
        const oomKilled = await cgroup.oomKilled();
        await cgroup.killAll();
        if (warm) this.#nets?.release(warm);
        resolve({ exitCode: code, signal: signal ?? signalFromStatus(code), oomKilled });
        void this.#pool.release(key, cgroup).catch(() => {});
      });
    });
    return { exited, kill, closed: () => closed };
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
    const netted = network === "egress" || o.exposable;
    if (netted && (!this.#isRoot || !tools.slirp4netns || !tools.nsenter || !tools.iptablesRestore)) {
      throw new Error("sandbox networking needs root, slirp4netns, nsenter and iptables (ADR 0006)");
    }
    // A command (no port to expose) joins its project's warm egress network; a spawned process gets its
    // own, since its ports are forwarded by its own slirp4netns.
    const joinsWarm = netted && !o.exposable;
    const needsNet = netted && !joinsWarm;
    const workspace = path.resolve(sandbox.workspaceDir);
    const hostId = this.#isRoot ? projectHostId(sandbox.projectId, this.#options.hostIdBase) : undefined;
    if (hostId !== undefined) await ensureOwner(workspace, hostId);

    const key = cgroupKey(sandbox.projectId);
    const cgroupsOk = !(await this.#cgroupProblem());

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
      // Joined below instead (nsenter, as root, before the privileges are dropped).
      ...(joinsWarm ? [] : ["--unshare-net"]),
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
          etcTree: this.#etcTrees.dir(network),
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
    // Set by the wrapper shell itself (bash's `ulimit`, soft and hard, in KiB) and inherited by everything
    // it execs: no separate prlimit process per command.
    const rlimits: string[] = [];
    if (!cgroupsOk) {
      // Fallback limits. RLIMIT_NPROC counts per host uid, which is per project here; RLIMIT_DATA (not
      // RLIMIT_AS) because V8 reserves far more address space than it ever touches.
      rlimits.push(`ulimit -u ${limits.maxProcesses}`, `ulimit -d ${kib(limits.memoryBytes)}`);
    }
    // No single file beyond the project's disk quota (limits/disk-quota.ts): there is no kernel quota here.
    if (limits.fileBytes > 0) rlimits.push(`ulimit -f ${kib(limits.fileBytes)}`);
    if (hostId !== undefined && tools.setpriv) {
      // The parent-death signal is armed from here on, not only once bwrap arms its own (cgroup-owner.ts).
      prefix.push(
        tools.setpriv,
        `--reuid=${hostId}`,
        `--regid=${hostId}`,
        "--clear-groups",
        "--pdeathsig=KILL",
        "--",
      );
    }
    const sources = [workspace, ...(sandbox.readOnlyMounts ?? []).map((m) => m.hostPath)];
    const stage = path.join(this.#runDir, "stage");
    const mounts = sources.map(
      (_, i) => `${tools.mount} --bind -- "$${i + 1}" '${stage}/${i === 0 ? "ws" : `ro${i - 1}`}'`,
    );
    // Kiln may have inherited descriptors without close-on-exec from whoever started it (npm, a
    // supervisor); none may reach the sandbox. 0-2 are stdio, 3 bwrap's info pipe, 4 the start gate.
    // The warm network's descriptor (3) is nsenter's alone: closed here, once nsenter has joined it.
    const firstFree = needsNet ? 5 : 3;
    const closeFds = `for f in /proc/$$/fd/*; do n=\${f##*/}; if [ "$n" -ge ${firstFree} ]; then eval "exec $n>&-"; fi; done`;
    if (cgroupsOk && !needsNet && hostId !== undefined && prefix.length > 0) {
      const chainKey = JSON.stringify([key, joinsWarm, sources, prefix]);
      const start = { chainKey, key, sources, prefix, joinsWarm, limits, workspace };
      let chain = this.#takeStandby(chainKey, workspace);
      const starting = chain ? undefined : this.#replenishing.get(chainKey);
      if (starting) {
        // Half started already (back-to-back commands): finishing it costs less than a second chain.
        await starting;
        chain = this.#takeStandby(chainKey, workspace);
      }
      if (chain) {
        try {
          await chain.cgroup.apply(limits);
        } catch {
          chain.dispose();
          chain = undefined;
        }
      }
      chain ??= await this.#startChain(start);
      // Options and command reach the waiting wrapper through a file of Kiln's own (NUL-separated: bash's
      // mapfile reads a file in one go, a pipe byte by byte); the first entry is RLIMIT_FSIZE in KiB.
      const file = path.join(this.#goDir, `${chain.child.pid}-${randomBytes(4).toString("hex")}`);
      const fsize = limits.fileBytes > 0 ? String(kib(limits.fileBytes)) : "unlimited";
      writeFileSync(file, [fsize, ...bwrap.slice(1)].map((a) => `${a}\0`).join(""), { mode: 0o600 });
      void chain.exited.finally(() => rmSync(file, { force: true }));
      o.onSpawn(chain.child);
      chain.go(file);
      this.#replenish(start);
      return {
        child: chain.child,
        cgroup: chain.cgroup,
        slirp: Promise.resolve(undefined),
        kill: chain.kill,
        exited: chain.exited,
      };
    }
    const cgroup = cgroupsOk ? await this.#pool.acquire(key, limits) : undefined;
    const script = [
      closeFds,
      ...(cgroup ? [cgroup.joinScript()] : []),
      ...mounts,
      ...rlimits,
      `shift ${sources.length}`,
      'exec "$@"',
    ].join(" && ");
    let warm: WarmNet | undefined;
    if (joinsWarm) {
      this.#nets ??= new WarmNets(
        tools as Tools & { unshare: string },
        this.#runDir,
        this.#options.egressAllow,
      );
      try {
        warm = await this.#nets.acquire(key);
      } catch (error) {
        if (cgroup) void this.#pool.release(key, cgroup).catch(() => {});
        throw error;
      }
    }
    // The private mount namespace only holds the staging bind mounts; bwrap builds the real root.
    const unshare = wrapperArgv(tools.unshare as string, script, [...sources, ...prefix, ...bwrap]);
    const argv = warm ? [tools.nsenter as string, "--net=/proc/self/fd/3", "--", ...unshare] : unshare;
    const child = spawn(argv[0]!, argv.slice(1), {
      stdio: [
        "pipe",
        "pipe",
        "pipe",
        warm ? warm.fd : needsNet ? "pipe" : "ignore",
        needsNet ? "pipe" : "ignore",
      ],
      env: {},
    });

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
        // Normally nothing is left (bwrap's pid namespace dies with its init): one read of cgroup.procs.
        await cgroup?.killAll();
        // In use (slirp4netns kept) until the command is over, however long it runs.
        if (warm) this.#nets?.release(warm);
        resolve({ exitCode: code, signal: signal ?? signalFromStatus(code), oomKilled });
        // Checking the group empty and handing it to the next command happens after the answer.
        if (cgroup) void this.#pool.release(key, cgroup).catch(() => {});
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
            await installFilter(pid, network, tools as Tools, this.#options.egressAllow);
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
            installFilter(pid, network, tools as Tools, this.#options.egressAllow),
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

/** How often the cgroups of Kiln processes that died are looked for (three directory reads). */
const ORPHAN_SWEEP_MS = 10_000;

/** A standby chain unused this long is ended (its workspace could have been replaced since). */
const STANDBY_MS = 30_000;

interface ChainStart {
  chainKey: string;
  key: string;
  sources: string[];
  prefix: string[];
  joinsWarm: boolean;
  limits: ResourceLimits;
  workspace: string;
}

/** A wrapper chain started ahead of its command (see #startChain). */
interface Chain {
  child: ChildProcess;
  cgroup: CgroupV1;
  exited: Promise<ExitStatus>;
  kill(): Promise<void>;
  closed(): boolean;
  born: number;
  ino: number;
  dev: number;
  /** Still waiting for its command. */
  waiting(): boolean;
  go(file: string): void;
  dispose(): void;
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

/** Argument directories of Kiln processes that died without closing their driver (killed, crashed). */
function removeOrphanArgDirs(dir: string): void {
  for (const name of readdirSync(dir)) {
    const pid = Number(/^kiln-args-(\d+)-/.exec(name)?.[1]);
    if (!pid || pidAlive(pid)) continue;
    rmSync(path.join(dir, name), { recursive: true, force: true });
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Whether a child process and its pipes keep Node's event loop alive. */
function holdsLoop(child: ChildProcess, hold: boolean): void {
  if (hold) child.ref();
  else child.unref();
  for (const stream of child.stdio) {
    const socket = stream as { ref?: () => void; unref?: () => void } | null;
    if (hold) socket?.ref?.();
    else socket?.unref?.();
  }
}

/** The cgroup pool's key for a project: its id, in characters safe for a directory name. */
/** `unshare` into a private mount namespace running `script` in bash; `args` become its $1… */
function wrapperArgv(unshare: string, script: string, args: string[]): string[] {
  return [
    unshare,
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
    ...args,
  ];
}

function cgroupKey(projectId: string): string {
  return projectId.replace(/[^a-zA-Z0-9_-]/g, "_");
}

/** Bytes as bash's `ulimit` takes them (KiB), rounded down: never more than asked, and at least 1 KiB. */
function kib(bytes: number): number {
  return Math.max(1, Math.floor(bytes / 1024));
}

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
