import http from "node:http";
import type { SandboxDriver, SandboxProcess, SandboxSpec } from "../sandbox/driver.ts";
import { LogBuffer } from "./log-buffer.ts";

export type DevServerState = "stopped" | "starting" | "running" | "crashed" | "hibernated";

export interface DevCommand {
  argv: string[];
  env?: Record<string, string>;
}

/** Identifies a project to the manager; keys are ids, so renames do not matter. */
export interface DevServerProject {
  orgId: string;
  projectId: string;
  name: string;
  /** Decides the dev command. */
  template: string;
}

export interface DevServerStatus {
  state: DevServerState;
  /** Where the preview proxy reaches the server, when running. */
  target?: { host: string; port: number };
  /** What is happening while starting, or why it stopped. */
  detail: string;
  startedAt?: number;
  exitCode?: number | null;
}

export interface DevServerManagerOptions {
  driver: SandboxDriver;
  /** The driver as one project's dev server sees it (limits/: counted against its org); `driver` if unset. */
  driverFor?(project: DevServerProject): SandboxDriver;
  /** The project's sandbox (workspace, mounts, limits). */
  sandboxFor(project: DevServerProject): Promise<SandboxSpec>;
  /** The dev command, or undefined when the project has none. */
  commandFor(project: DevServerProject): Promise<DevCommand | undefined>;
  /** Stop servers with no preview traffic for this long; 0 disables hibernation. */
  idleMs: number;
  /** Give up on a server that has not answered HTTP after this long. */
  startTimeoutMs?: number;
  log?: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
}

/** Each sandbox has its own network namespace, so every dev server can listen on the same port inside. */
export const GUEST_PORT = 3000;

interface Entry {
  project: DevServerProject;
  state: DevServerState;
  detail: string;
  log: LogBuffer;
  process?: SandboxProcess;
  target?: { host: string; port: number };
  startedAt?: number;
  exitCode?: number | null;
  lastActivity: number;
  /** Open proxied connections (HMR sockets): a tab left open keeps the server awake. */
  connections: number;
  /** Bumped on every start/stop, so a superseded start does not overwrite newer state. */
  generation: number;
  /** Wakes the health check early: new output often means "listening now" (Vite prints "ready in"). */
  poke?: () => void;
  /** Output arrived while a health check was in flight: check again at once rather than after a delay. */
  poked?: boolean;
  /** Called once whenever the state changes (requests held while the server starts). */
  waiters: Set<() => void>;
}

/**
 * Runs each project's dev server in its sandbox on demand: start, health-check, log, restart, stop, and
 * hibernate when idle. The preview gateway calls `ensure` on every request, which also wakes a
 * hibernated server.
 */
export class DevServerManager {
  readonly #o: DevServerManagerOptions;
  readonly #entries = new Map<string, Entry>();
  readonly #sweeper: NodeJS.Timeout | undefined;

  constructor(options: DevServerManagerOptions) {
    this.#o = options;
    if (options.idleMs > 0) {
      this.#sweeper = setInterval(
        () => void this.sweep(),
        Math.min(30_000, Math.max(1_000, options.idleMs / 4)),
      );
      this.#sweeper.unref();
    }
  }

  status(project: DevServerProject): DevServerStatus {
    const e = this.#entries.get(key(project));
    if (!e) return { state: "stopped", detail: "not started" };
    return {
      state: e.state,
      detail: e.detail,
      ...(e.target && e.state === "running" ? { target: e.target } : {}),
      ...(e.startedAt ? { startedAt: e.startedAt } : {}),
      ...(e.exitCode !== undefined ? { exitCode: e.exitCode } : {}),
    };
  }

  /** The project the manager knows by these ids, if any (for events that carry only ids). */
  find(orgId: string, projectId: string): DevServerProject | undefined {
    return this.#entries.get(`${orgId}/${projectId}`)?.project;
  }

  logs(project: DevServerProject): LogBuffer {
    return this.#entry(project).log;
  }

  /** For each preview request: records activity and starts (or wakes) the server when it is not running. */
  ensure(project: DevServerProject): DevServerStatus {
    const e = this.#entry(project);
    e.lastActivity = Date.now();
    if (e.state === "stopped" || e.state === "hibernated") void this.start(project);
    return this.status(project);
  }

  /**
   * Like `ensure`, but a server that is starting is given up to `waitMs` to finish first. A page request
   * held this way is answered the moment the server answers — no "starting…" page that reloads every
   * second, and no clients polling a busy machine during the cold start.
   */
  async ensureSettled(project: DevServerProject, waitMs: number): Promise<DevServerStatus> {
    const status = this.ensure(project);
    if (status.state !== "starting" || waitMs <= 0) return status;
    const e = this.#entry(project);
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        e.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, waitMs);
      e.waiters.add(done);
    });
    return this.status(project);
  }

  /** Marks a long-lived proxied connection open; call the returned function when it closes. */
  hold(project: DevServerProject): () => void {
    const e = this.#entry(project);
    e.connections++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      e.connections--;
      e.lastActivity = Date.now();
    };
  }

  async start(project: DevServerProject): Promise<DevServerStatus> {
    const e = this.#entry(project);
    if (e.state === "starting" || e.state === "running") return this.status(project);
    const generation = ++e.generation;
    e.state = "starting";
    e.detail = "Starting the dev server";
    e.exitCode = undefined;
    e.target = undefined;
    e.startedAt = Date.now();
    e.lastActivity = Date.now();
    try {
      const command = await this.#o.commandFor(project);
      if (!command) {
        this.#settle(e, generation, "crashed", "This project has no dev command");
        return this.status(project);
      }
      const spec = await this.#o.sandboxFor(project);
      e.log.push("system", `$ ${command.argv.join(" ")}`);
      const driver = this.#o.driverFor?.(project) ?? this.#o.driver;
      const proc = await driver.spawn(spec, {
        argv: command.argv,
        env: { PORT: String(GUEST_PORT), HOST: "0.0.0.0", ...command.env },
        // It spends its first few hundred ms starting up; the network is attached meanwhile.
        startBeforeNetwork: true,
      });
      if (generation !== e.generation) {
        await proc.kill();
        return this.status(project);
      }
      e.process = proc;
      proc.stdout.setEncoding("utf8").on("data", (d: string) => {
        e.log.write("stdout", d);
        if (e.poke) e.poke();
        else e.poked = true;
      });
      proc.stderr.setEncoding("utf8").on("data", (d: string) => e.log.write("stderr", d));
      void proc.exited.then((exit) => {
        if (generation !== e.generation) return;
        e.process = undefined;
        e.exitCode = exit.exitCode;
        const why = exit.oomKilled
          ? "ran out of memory"
          : exit.signal
            ? `was killed (${exit.signal})`
            : `exited with code ${exit.exitCode}`;
        e.log.push("system", `dev server ${why}`);
        this.#settle(e, generation, "crashed", `The dev server ${why}`);
      });
      e.target = await proc.exposePort(GUEST_PORT);
      e.detail = "Waiting for the dev server to answer";
      await this.#waitForHttp(e, generation);
    } catch (err) {
      // A process that exits while its network is attached fails the attach (its slirp socket is gone) a
      // moment before its exit is reported: give the exit that moment, so the status says why it stopped.
      const exiting = e.process?.exited;
      if (exiting && generation === e.generation)
        await Promise.race([exiting, new Promise((r) => setTimeout(r, 1_000).unref())]);
      // It exited while starting (its network was still being attached): the exit said why already.
      if (
        generation === e.generation &&
        (e.state as DevServerState) === "crashed" &&
        e.exitCode !== undefined
      )
        return this.status(project);
      e.log.push("system", `failed to start: ${(err as Error).message}`);
      await this.#killProcess(e);
      this.#settle(e, generation, "crashed", `Could not start: ${(err as Error).message}`);
    }
    return this.status(project);
  }

  async stop(project: DevServerProject, reason: "stopped" | "hibernated" = "stopped"): Promise<void> {
    const e = this.#entries.get(key(project));
    if (!e) return;
    e.generation++;
    await this.#killProcess(e);
    e.state = reason;
    e.target = undefined;
    e.detail = reason === "hibernated" ? "Hibernated after being idle; the next visit wakes it" : "Stopped";
    e.log.push("system", e.detail);
    wake(e);
  }

  async restart(project: DevServerProject): Promise<DevServerStatus> {
    await this.stop(project);
    return this.start(project);
  }

  /** Stops servers idle for longer than `idleMs`. Runs on a timer; public for tests. */
  async sweep(now = Date.now()): Promise<number> {
    let stopped = 0;
    for (const e of this.#entries.values()) {
      const idle = e.connections === 0 && now - e.lastActivity > this.#o.idleMs;
      if ((e.state === "running" || e.state === "starting") && idle) {
        await this.stop(e.project, "hibernated");
        this.#o.log?.info({ projectId: e.project.projectId }, "dev server hibernated");
        stopped++;
      }
    }
    return stopped;
  }

  /** Stops and forgets every project of an org (the org was deleted). */
  async forgetOrg(orgId: string): Promise<void> {
    await Promise.all(
      [...this.#entries.values()].filter((e) => e.project.orgId === orgId).map((e) => this.forget(e.project)),
    );
  }

  /** A deleted project: stops its server and drops its log. */
  async forgetProject(orgId: string, projectId: string): Promise<void> {
    const found = this.find(orgId, projectId);
    if (found) await this.forget(found);
  }

  /** Forgets a project (deleted): stops its server and drops its log. */
  async forget(project: DevServerProject): Promise<void> {
    await this.stop(project);
    this.#entries.delete(key(project));
  }

  async close(): Promise<void> {
    if (this.#sweeper) clearInterval(this.#sweeper);
    await Promise.all([...this.#entries.values()].map((e) => this.stop(e.project)));
  }

  #entry(project: DevServerProject): Entry {
    let e = this.#entries.get(key(project));
    if (!e) {
      e = {
        project,
        state: "stopped",
        detail: "not started",
        log: new LogBuffer(),
        lastActivity: Date.now(),
        connections: 0,
        generation: 0,
        waiters: new Set(),
      };
      this.#entries.set(key(project), e);
    }
    e.project = project;
    return e;
  }

  #settle(e: Entry, generation: number, state: DevServerState, detail: string): void {
    if (generation !== e.generation) return;
    e.state = state;
    e.detail = detail;
    wake(e);
  }

  async #killProcess(e: Entry): Promise<void> {
    const proc = e.process;
    e.process = undefined;
    if (proc) await proc.kill().catch(() => {});
  }

  async #waitForHttp(e: Entry, generation: number): Promise<void> {
    const deadline = Date.now() + (this.#o.startTimeoutMs ?? 120_000);
    let delay = 100;
    while (generation === e.generation && e.state === "starting") {
      e.poked = false;
      if (e.target && (await answers(e.target))) {
        this.#settle(e, generation, "running", "Running");
        e.log.push("system", `dev server is answering (${Date.now() - (e.startedAt ?? 0)} ms)`);
        return;
      }
      if (Date.now() > deadline) {
        await this.#killProcess(e);
        this.#settle(e, generation, "crashed", `The dev server did not answer on port ${GUEST_PORT}`);
        return;
      }
      // Check again when the server prints something (servers announce that they listen) or after a
      // while, whichever comes first; polling alone either adds latency or keeps a busy CPU busier.
      if (e.poked) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, delay);
        function done() {
          clearTimeout(timer);
          e.poke = undefined;
          resolve();
        }
        e.poke = done;
      });
      if (Date.now() - (e.startedAt ?? 0) > 10_000) delay = Math.min(delay * 1.5, 500);
    }
  }
}

function wake(e: Entry): void {
  for (const waiter of [...e.waiters]) waiter();
}

function key(project: DevServerProject): string {
  return `${project.orgId}/${project.projectId}`;
}

/**
 * Any HTTP answer counts: a 404 or 500 from the app still means the server is up. The path is one no app
 * serves, asked for as data: a dev server answers it at once (Vite, for `/`, would first transform the
 * page — work the first real visitor then pays again).
 */
function answers(target: { host: string; port: number }): Promise<boolean> {
  return new Promise((resolve) => {
    const options = {
      host: target.host,
      port: target.port,
      path: "/__kiln/health",
      headers: { accept: "application/octet-stream" },
      timeout: 1_000,
    };
    const req = http.get(options, (res) => {
      res.resume();
      resolve(true);
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(false));
  });
}
