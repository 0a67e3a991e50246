import { randomBytes } from "node:crypto";
import {
  chmodSync,
  closeSync,
  constants,
  fchownSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  rmSync,
} from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { PassThrough, type Readable, type Writable } from "node:stream";
import type { SandboxDriver, SandboxProcess } from "../sandbox/index.ts";
import { DISPATCHER_JS } from "./dispatcher.ts";

/** Where the socket directory appears inside the warm sandbox (read-only). */
const SOCKET_DIR = "/run/kiln-git";
const SOCKET_NAME = "s";
/** A report line from the sandbox longer than this is not one of the dispatcher's: the sandbox is killed. */
const MAX_LINE_BYTES = 1024 * 1024;
const START_TIMEOUT_MS = 15_000;
const CONNECT_TIMEOUT_MS = 10_000;
/** How long a request's connection may arrive after its exit was reported (they travel apart). */
const EXIT_BEFORE_CONNECT_MS = 2_000;
/** A request asked to stop and still running after this: the whole sandbox is killed. */
const KILL_GRACE_MS = 2_000;
/** After a warm sandbox failed to start, the project's requests start their own for this long. */
const RETRY_AFTER_MS = 60_000;

export interface WarmGitOptions {
  /**
   * The driver a project's warm sandbox is started with, per project: `Limits.guard` in kiln.ts, so it is
   * counted against the org's live sandboxes, memory and CPU, and stopped with the project's sandboxes.
   */
  driverFor(orgId: string, projectId: string): SandboxDriver;
  /** The project's workspace (mounted at /workspace). */
  workspaceOf(orgId: string, projectId: string): string;
  /** The host uid a project's sandbox runs as (it alone may connect to the socket), when not Kiln's own. */
  ownerOf(projectId: string): { uid: number; gid: number } | undefined;
  /** A warm sandbox with no request for this long is stopped (read when it becomes idle). */
  idleMs(): number;
  /** A warm sandbox older than this takes no new requests and stops once its last one ended. */
  maxAgeMs: number;
}

/**
 * Long-lived git sandboxes, one per project at most (ADR 0013): each runs the dispatcher (`dispatcher.ts`)
 * in the project's bubblewrap sandbox as its uid, which forks the request's `sh -c` git script inside that
 * same sandbox. Kiln talks to it over the sandbox's stdin/stdout (orders and reports) and a unix socket
 * per project in a directory Kiln owns (each request's stdin and stdout). A request pays for a fork in a
 * running sandbox instead of a sandbox start.
 */
export class WarmGit {
  readonly #o: WarmGitOptions;
  readonly #root: string;
  readonly #sandboxes = new Map<string, WarmSandbox>();
  readonly #failed = new Map<string, number>();
  #serial = 0;
  #closed = false;

  constructor(options: WarmGitOptions) {
    this.#o = options;
    this.#root = mkdtempSync(path.join(os.tmpdir(), "kiln-git-warm-"));
  }

  /** How many warm sandboxes run now (tests, status). */
  get size(): number {
    return this.#sandboxes.size;
  }

  /** The project's warm sandbox now, if any (tests: which one, and its socket on the host). */
  current(orgId: string, projectId: string): { pid: number; serial: number; socket: string } | undefined {
    const s = this.#sandboxes.get(`${orgId}/${projectId}`);
    return s?.proc ? { pid: s.proc.pid, serial: s.serial, socket: s.socket } : undefined;
  }

  /**
   * Starts `argv` (with `env` over the sandbox's own) in /workspace of the project's warm sandbox, starting
   * one when needed. Undefined when none can be had now (the org is at its sandbox limit, the sandbox does
   * not start): the caller starts a sandbox of its own for the request, as before.
   */
  async spawn(
    orgId: string,
    projectId: string,
    argv: string[],
    env: Record<string, string>,
  ): Promise<SandboxProcess | undefined> {
    if (this.#closed) return undefined;
    const key = `${orgId}/${projectId}`;
    if ((this.#failed.get(key) ?? 0) > Date.now()) return undefined;
    const workspace = this.#o.workspaceOf(orgId, projectId);
    let identity: string;
    try {
      identity = identityOf(workspace);
    } catch {
      return undefined;
    }
    let sandbox = this.#sandboxes.get(key);
    // The workspace directory was replaced since the sandbox mounted it: that mount is not the project's.
    if (sandbox && (sandbox.identity !== identity || sandbox.expired(this.#o.maxAgeMs))) {
      this.#forget(key, sandbox);
      sandbox = undefined;
    }
    if (!sandbox) {
      const dir = path.join(this.#root, String(++this.#serial));
      sandbox = new WarmSandbox({
        serial: this.#serial,
        dir,
        identity,
        idleMs: this.#o.idleMs,
        onGone: (s) => {
          if (this.#sandboxes.get(key) === s) this.#sandboxes.delete(key);
        },
      });
      this.#sandboxes.set(key, sandbox);
      sandbox.start(this.#o.driverFor(orgId, projectId), projectId, workspace, this.#o.ownerOf(projectId));
    }
    try {
      await sandbox.ready;
    } catch {
      this.#forget(key, sandbox);
      this.#failed.set(key, Date.now() + RETRY_AFTER_MS);
      return undefined;
    }
    return sandbox.run(argv, env);
  }

  /** Stops a deleted project's warm sandbox. */
  async forgetProject(orgId: string, projectId: string): Promise<void> {
    const key = `${orgId}/${projectId}`;
    this.#failed.delete(key);
    const s = this.#sandboxes.get(key);
    if (s) await this.#forget(key, s, true);
  }

  async forgetOrg(orgId: string): Promise<void> {
    const doomed = [...this.#sandboxes].filter(([key]) => key.startsWith(`${orgId}/`));
    await Promise.all(doomed.map(([key, s]) => this.#forget(key, s, true)));
  }

  close(): void {
    this.#closed = true;
    for (const [key, s] of this.#sandboxes) void this.#forget(key, s, true);
    rmSync(this.#root, { recursive: true, force: true });
  }

  /** No new requests go to `s`; it stops once its last one ended (`now`: at once). */
  #forget(key: string, s: WarmSandbox, now = false): Promise<void> {
    if (this.#sandboxes.get(key) === s) this.#sandboxes.delete(key);
    return now ? s.stop() : s.retire();
  }
}

/** The workspace directory as mounted: a replaced directory (new inode) is another one. */
function identityOf(dir: string): string {
  const st = lstatSync(dir);
  if (!st.isDirectory()) throw new Error("the workspace is not a directory");
  return `${st.dev}:${st.ino}`;
}

interface Pending {
  stderr: PassThrough;
  connected: (socket: net.Socket) => void;
  exit: (status: { exitCode: number | null; signal: NodeJS.Signals | null; oomKilled: boolean }) => void;
  socket?: net.Socket;
}

class WarmSandbox {
  readonly serial: number;
  readonly identity: string;
  readonly ready: Promise<void>;
  proc: SandboxProcess | undefined;
  readonly #dir: string;
  readonly #idleMs: () => number;
  readonly #onGone: (s: WarmSandbox) => void;
  readonly #born = Date.now();
  readonly #pending = new Map<string, Pending>();
  #server: net.Server | undefined;
  #markReady!: () => void;
  #failReady!: (error: Error) => void;
  #idle: NodeJS.Timeout | undefined;
  #retired = false;
  #gone = false;
  #cleaned = false;

  constructor(o: {
    serial: number;
    dir: string;
    identity: string;
    idleMs: () => number;
    onGone: (s: WarmSandbox) => void;
  }) {
    this.serial = o.serial;
    this.identity = o.identity;
    this.#dir = o.dir;
    this.#idleMs = o.idleMs;
    this.#onGone = o.onGone;
    this.ready = new Promise((resolve, reject) => {
      this.#markReady = resolve;
      this.#failReady = reject;
    });
    this.ready.catch(() => {});
  }

  get socket(): string {
    return path.join(this.#dir, SOCKET_NAME);
  }

  expired(maxAgeMs: number): boolean {
    return Date.now() - this.#born > maxAgeMs;
  }

  start(
    driver: SandboxDriver,
    projectId: string,
    workspace: string,
    owner: { uid: number; gid: number } | undefined,
  ): void {
    void this.#start(driver, projectId, workspace, owner).catch((error: unknown) => {
      this.#failReady(error as Error);
      void this.stop();
    });
  }

  async #start(
    driver: SandboxDriver,
    projectId: string,
    workspace: string,
    owner: { uid: number; gid: number } | undefined,
  ): Promise<void> {
    // Kiln's directory, root's alone while the socket is made in it; then given to the sandbox's uid through
    // a descriptor (never by path), so only that uid and root can reach the socket.
    mkdirSync(this.#dir, { mode: 0o700 });
    chmodSync(this.#dir, 0o700);
    const socketPath = path.join(this.#dir, SOCKET_NAME);
    const server = net.createServer({ allowHalfOpen: true }, (socket) => this.#accept(socket));
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(socketPath, () => {
        server.off("error", reject);
        resolve();
      });
    });
    server.on("error", () => void this.stop());
    chmodSync(socketPath, 0o666);
    if (owner) {
      const dir = openSync(this.#dir, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
      try {
        fchownSync(dir, owner.uid, owner.gid);
      } finally {
        closeSync(dir);
      }
    }
    const timer = setTimeout(
      () => this.#failReady(new Error("the warm git sandbox did not start")),
      START_TIMEOUT_MS,
    );
    this.proc = await driver.spawn(
      {
        projectId,
        workspaceDir: workspace,
        network: "none",
        readOnlyMounts: [{ hostPath: this.#dir, sandboxPath: SOCKET_DIR }],
      },
      {
        argv: ["node", "-e", DISPATCHER_JS, `${SOCKET_DIR}/${SOCKET_NAME}`],
        cwd: "/",
        openStdin: true,
        noPorts: true,
      },
    );
    const proc = this.proc;
    proc.stdin?.on("error", () => {});
    proc.stderr.resume();
    this.#readReports(proc.stdout, () => {
      clearTimeout(timer);
      this.#markReady();
    });
    void proc.exited.then(() => {
      clearTimeout(timer);
      this.#failReady(new Error("the warm git sandbox exited"));
      this.#gone = true;
      this.#cleanUp();
    });
    if (this.#gone) await proc.kill();
  }

  /** Starts one request's process; its stdin and stdout are a connection of Kiln's socket. */
  async run(argv: string[], env: Record<string, string>): Promise<SandboxProcess | undefined> {
    const proc = this.proc;
    if (!proc?.stdin || this.#gone) return undefined;
    clearTimeout(this.#idle);
    const id = randomBytes(16).toString("hex");
    const stderr = new PassThrough();
    let exit!: Pending["exit"];
    const exited = new Promise<{
      exitCode: number | null;
      signal: NodeJS.Signals | null;
      oomKilled: boolean;
    }>((resolve) => {
      exit = resolve;
    });
    let connected!: (socket: net.Socket) => void;
    const connection = new Promise<net.Socket>((resolve) => {
      connected = resolve;
    });
    const pending: Pending = { stderr, connected, exit };
    this.#pending.set(id, pending);
    // The process's connection and its exit report travel apart (socket, stdout): a process that exits at
    // once may be reported before its connection is taken. Its connection still counts for a moment.
    const connectedOrGone = Promise.race([
      connection,
      exited.then(
        () =>
          new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), EXIT_BEFORE_CONNECT_MS)),
      ),
    ]);
    void exited.then(async () => {
      if (!pending.socket) await connectedOrGone;
      this.#pending.delete(id);
      stderr.end();
      // Closed once git's output was read to its end (it may still be on its way when the exit is reported).
      const socket = pending.socket;
      if (socket && (socket.readableEnded || socket.destroyed)) socket.destroy();
      else socket?.once("end", () => socket.destroy());
      this.#maybeIdle();
    });
    const kill = async () => {
      if (!this.#pending.has(id)) return;
      this.#order({ t: "kill", id });
      // A request that had to be stopped leaves this sandbox to finish what runs and go.
      void this.retire();
      const grace = setTimeout(() => void this.stop(), KILL_GRACE_MS);
      await exited;
      clearTimeout(grace);
    };
    this.#order({ t: "run", id, argv, env });
    const timer = setTimeout(() => void kill(), CONNECT_TIMEOUT_MS);
    const socket = await connectedOrGone;
    clearTimeout(timer);
    if (!socket) return undefined;
    const stdout = new PassThrough();
    socket.pipe(stdout);
    return {
      pid: proc.pid,
      stdin: socket as Writable,
      stdout: stdout as Readable,
      stderr,
      exposePort: () => Promise.reject(new Error("a git request exposes no port")),
      kill,
      exited,
    };
  }

  /** No new requests; stops once the last one ended. */
  async retire(): Promise<void> {
    this.#retired = true;
    if (this.#pending.size === 0) await this.stop();
  }

  async stop(): Promise<void> {
    this.#retired = true;
    clearTimeout(this.#idle);
    this.#gone = true;
    this.#failReady(new Error("the warm git sandbox was stopped"));
    if (this.proc) {
      await this.proc.kill();
      await this.proc.exited;
    }
    this.#cleanUp();
  }

  #maybeIdle(): void {
    if (this.#pending.size > 0 || this.#gone) return;
    if (this.#retired) {
      void this.stop();
      return;
    }
    clearTimeout(this.#idle);
    this.#idle = setTimeout(() => void this.stop(), this.#idleMs());
    this.#idle.unref();
  }

  #cleanUp(): void {
    if (this.#cleaned) return;
    this.#cleaned = true;
    this.#onGone(this);
    for (const [id, p] of this.#pending) {
      this.#pending.delete(id);
      p.socket?.destroy();
      p.stderr.end();
      p.exit({ exitCode: null, signal: "SIGKILL", oomKilled: false });
    }
    this.#server?.close();
    rmSync(this.#dir, { recursive: true, force: true });
  }

  #order(message: object): void {
    this.proc?.stdin?.write(`${JSON.stringify(message)}\n`);
  }

  /** A connection names its request in its first line; one naming none of ours is dropped. */
  #accept(socket: net.Socket): void {
    socket.on("error", () => {});
    let head: Buffer = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const nl = head.indexOf(10);
      if (nl === -1) {
        if (head.length > 64) socket.destroy();
        return;
      }
      socket.off("data", onData);
      socket.pause();
      const pending = this.#pending.get(head.subarray(0, nl).toString("latin1"));
      if (!pending || pending.socket) {
        socket.destroy();
        return;
      }
      const rest = head.subarray(nl + 1);
      if (rest.length > 0) socket.unshift(rest);
      pending.socket = socket;
      pending.connected(socket);
    };
    socket.on("data", onData);
  }

  /** The dispatcher's reports, parsed as what they are: output of code in a tenant's sandbox. */
  #readReports(stdout: Readable, onReady: () => void): void {
    let buffered: Buffer = Buffer.alloc(0);
    stdout.on("data", (chunk: Buffer) => {
      buffered = buffered.length ? Buffer.concat([buffered, chunk]) : chunk;
      let nl = buffered.indexOf(10);
      while (nl !== -1) {
        this.#report(buffered.subarray(0, nl).toString("utf8"), onReady);
        buffered = buffered.subarray(nl + 1);
        nl = buffered.indexOf(10);
      }
      if (buffered.length > MAX_LINE_BYTES) void this.stop();
    });
  }

  #report(line: string, onReady: () => void): void {
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch {
      return;
    }
    if (typeof message !== "object" || message === null) return;
    const m = message as Record<string, unknown>;
    if (m.t === "ready") {
      onReady();
      return;
    }
    const pending = typeof m.id === "string" ? this.#pending.get(m.id) : undefined;
    if (!pending) return;
    if (m.t === "err" && typeof m.d === "string") {
      pending.stderr.write(Buffer.from(m.d, "base64"));
    } else if (m.t === "exit") {
      const exitCode = typeof m.code === "number" && Number.isInteger(m.code) ? m.code : null;
      const signal = typeof m.signal === "string" && /^SIG[A-Z0-9]+$/.test(m.signal) ? m.signal : null;
      pending.exit({ exitCode, signal: signal as NodeJS.Signals | null, oomKilled: false });
    }
  }
}
