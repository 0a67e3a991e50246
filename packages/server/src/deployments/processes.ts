import { LogBuffer } from "../devserver/log-buffer.ts";
import type { ProxyTarget } from "../preview/proxy.ts";
import type { SandboxDriver, SandboxProcess, SandboxSpec } from "../sandbox/driver.ts";
import type { ArtifactManifest, ServerCommand } from "./manifest.ts";

/** The port a published server listens on inside its sandbox (told by `PORT`). */
export const SITE_PORT = 3000;

/** What a request for a published server finds. */
export type SiteTarget =
  | { state: "ready"; target: ProxyTarget }
  | { state: "starting" }
  | { state: "crashed"; reason: string };

export interface SiteProcessesOptions {
  /** The driver as seen by the project (org budgets, disk). */
  driverFor(orgId: string, projectId: string): SandboxDriver;
  /** The sandbox a deployment runs in: its run directory as /workspace, the project's environment. */
  sandboxFor(site: SiteRef, runDir: string): Promise<SandboxSpec>;
  /** The deployment's files as a directory (run-dir.ts). */
  runDir(site: SiteRef): Promise<string>;
  /** Stopped after this long without a request; the next one starts it again. */
  idleMs: number;
  /** How long a request waits for a starting server before it is told to come back. */
  startWaitMs?: number;
  /** Crashes within a minute after which it stays down (requests answered "crashed") for the rest of it. */
  maxRestarts?: number;
  log?: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
}

export interface SiteRef {
  orgId: string;
  projectId: string;
  deploymentId: string;
  /** The deployment's artifact, with how it runs. */
  manifest: ArtifactManifest;
  server: ServerCommand;
  /**
   * Which of the project's processes: its current deployment's (by default) or another's, such as a
   * deployment opened by its share link (`version:<id>`), which must not replace the live one.
   */
  slot?: string;
}

interface Entry {
  site: SiteRef;
  state: "starting" | "ready" | "crashed" | "stopped";
  process?: SandboxProcess | undefined;
  target?: ProxyTarget | undefined;
  reason?: string;
  /** Resolves once the current start settles. */
  started?: Promise<void> | undefined;
  lastRequest: number;
  crashes: number[];
  restartTimer?: NodeJS.Timeout | undefined;
  generation: number;
}

const CRASH_WINDOW_MS = 60_000;
/** Runtime log lines kept per deployment, and deployments whose log is kept (the least recently run go). */
const LOG_LINES = 500;
const LOGS_KEPT = 64;
const HEALTH_TIMEOUT_MS = 30_000;

/**
 * Published server apps (ADR 0023): one production process per project, in a sandbox of its own, running its
 * current deployment. Started by the first request, restarted after a crash (with a growing pause, and given
 * up after too many crashes in a minute), stopped when idle and when the project moves to another
 * deployment. Each is up once its health path answers.
 */
export class SiteProcesses {
  readonly #o: SiteProcessesOptions;
  readonly #entries = new Map<string, Entry>();
  /** Each deployment's runtime log: its output, and its starts, crashes and stops (by deployment id). */
  readonly #logs = new Map<string, LogBuffer>();
  readonly #sweeper: NodeJS.Timeout;

  constructor(options: SiteProcessesOptions) {
    this.#o = options;
    this.#sweeper = setInterval(() => void this.sweep(), Math.min(options.idleMs, 60_000));
    this.#sweeper.unref();
  }

  /** Where to send a request for this deployment: starting it, or switching to it, when needed. */
  async target(site: SiteRef): Promise<SiteTarget> {
    const key = site.slot ?? site.projectId;
    let e = this.#entries.get(key);
    if (e && e.site.deploymentId !== site.deploymentId) {
      await this.#stop(e, "stopped");
      e = undefined;
    }
    if (!e) {
      e = { site, state: "stopped", lastRequest: Date.now(), crashes: [], generation: 0 };
      this.#entries.set(key, e);
    }
    e.lastRequest = Date.now();
    if (e.state === "stopped" || (e.state === "crashed" && !e.restartTimer && !this.#gaveUp(e)))
      this.#start(e);
    if (e.state === "starting") {
      const waited = await Promise.race([
        e.started?.then(() => true),
        new Promise<false>((r) => setTimeout(() => r(false), this.#o.startWaitMs ?? 15_000).unref()),
      ]);
      if (!waited) return { state: "starting" };
    }
    if (e.state === "ready" && e.target) return { state: "ready", target: e.target };
    if (e.state === "crashed") return { state: "crashed", reason: e.reason ?? "the server stopped" };
    return { state: "starting" };
  }

  /** A deployment's runtime log on this replica, if it ran here lately. */
  logOf(deploymentId: string): LogBuffer | undefined {
    return this.#logs.get(deploymentId);
  }

  #log(site: SiteRef): LogBuffer {
    let log = this.#logs.get(site.deploymentId);
    if (log) this.#logs.delete(site.deploymentId);
    else log = new LogBuffer(LOG_LINES);
    this.#logs.set(site.deploymentId, log);
    if (this.#logs.size > LOGS_KEPT) this.#logs.delete(this.#logs.keys().next().value!);
    return log;
  }

  /** The host pid of a project's running server (tests kill it to see it come back). */
  pidOf(projectId: string): number | undefined {
    return this.#entries.get(projectId)?.process?.pid;
  }

  /** Stops servers that had no request for `idleMs`. Runs on a timer; public for tests. */
  async sweep(now = Date.now()): Promise<number> {
    let stopped = 0;
    for (const e of this.#entries.values()) {
      if (e.state !== "stopped" && now - e.lastRequest > this.#o.idleMs) {
        await this.#stop(e, "stopped");
        stopped++;
      }
    }
    return stopped;
  }

  async forgetProject(_orgId: string, projectId: string): Promise<void> {
    const gone = [...this.#entries].filter(([, e]) => e.site.projectId === projectId);
    for (const [key] of gone) this.#entries.delete(key);
    await Promise.all(gone.map(([, e]) => this.#stop(e, "stopped")));
  }

  async forgetOrg(orgId: string): Promise<void> {
    await Promise.all(
      [...this.#entries.values()]
        .filter((e) => e.site.orgId === orgId)
        .map((e) => this.forgetProject(orgId, e.site.projectId)),
    );
  }

  async close(): Promise<void> {
    clearInterval(this.#sweeper);
    await Promise.all([...this.#entries.values()].map((e) => this.#stop(e, "stopped")));
    this.#entries.clear();
  }

  #start(e: Entry): void {
    const generation = ++e.generation;
    e.state = "starting";
    e.restartTimer = undefined;
    e.started = this.#run(e, generation).catch((err: unknown) => {
      if (generation !== e.generation) return;
      e.state = "crashed";
      e.reason = `could not start: ${(err as Error).message}`;
      this.#log(e.site).push("system", e.reason);
      void e.process?.kill();
    });
  }

  async #run(e: Entry, generation: number): Promise<void> {
    const { site } = e;
    const dir = await this.#o.runDir(site);
    const spec = await this.#o.sandboxFor(site, dir);
    const proc = await this.#o.driverFor(site.orgId, site.projectId).spawn(spec, {
      argv: site.server.argv,
      env: { PORT: String(SITE_PORT), HOST: "0.0.0.0", NODE_ENV: "production" },
      startBeforeNetwork: true,
    });
    if (generation !== e.generation) return void (await proc.kill());
    e.process = proc;
    // Read as it comes (unread output would block the app), kept bounded in lines and line length.
    const log = this.#log(site);
    log.push("system", `starting: ${site.server.argv.join(" ")}`);
    proc.stdout.setEncoding("utf8").on("data", (chunk: string) => log.write("stdout", chunk));
    proc.stderr.setEncoding("utf8").on("data", (chunk: string) => log.write("stderr", chunk));
    void proc.exited.then((exit) => {
      if (generation !== e.generation) return;
      e.process = undefined;
      e.target = undefined;
      const why = exit.oomKilled
        ? "ran out of memory"
        : exit.signal
          ? `was killed (${exit.signal})`
          : `exited (${exit.exitCode})`;
      this.#crashed(e, `the server ${why}`);
    });
    e.target = await proc.exposePort(SITE_PORT);
    const deadline = Date.now() + HEALTH_TIMEOUT_MS;
    while (generation === e.generation && e.process) {
      if (await healthy(e.target, site.server.health)) {
        e.state = "ready";
        log.push("system", `up: ${site.server.health} answered`);
        return;
      }
      if (Date.now() > deadline) {
        await proc.kill();
        throw new Error(`${site.server.health} did not answer within ${HEALTH_TIMEOUT_MS / 1000} s`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Too many crashes lately: requests are told so until the window has passed, not each a new start. */
  #gaveUp(e: Entry): boolean {
    const now = Date.now();
    return e.crashes.filter((t) => now - t < CRASH_WINDOW_MS).length > (this.#o.maxRestarts ?? 5);
  }

  #crashed(e: Entry, reason: string): void {
    const now = Date.now();
    e.crashes = [...e.crashes.filter((t) => now - t < CRASH_WINDOW_MS), now];
    e.state = "crashed";
    e.reason = reason;
    this.#o.log?.warn(
      { projectId: e.site.projectId, deploymentId: e.site.deploymentId, reason },
      "published server crashed",
    );
    const log = this.#logs.get(e.site.deploymentId);
    log?.push("system", reason);
    if (this.#gaveUp(e)) {
      log?.push("system", `crashed ${e.crashes.length} times within a minute: not restarted for now`);
      return;
    }
    const pause = Math.min(250 * 2 ** (e.crashes.length - 1), 10_000);
    log?.push("system", `restarting in ${pause} ms`);
    e.restartTimer = setTimeout(() => {
      e.restartTimer = undefined;
      if (e.state === "crashed") this.#start(e);
    }, pause);
    e.restartTimer.unref();
  }

  async #stop(e: Entry, state: "stopped"): Promise<void> {
    e.generation++;
    clearTimeout(e.restartTimer);
    e.restartTimer = undefined;
    const proc = e.process;
    e.process = undefined;
    e.target = undefined;
    e.state = state;
    if (proc) this.#logs.get(e.site.deploymentId)?.push("system", "stopped");
    await proc?.kill();
  }
}

async function healthy(target: ProxyTarget, healthPath: string): Promise<boolean> {
  try {
    const res = await fetch(`http://${target.host}:${target.port}${healthPath}`, {
      signal: AbortSignal.timeout(2_000),
      redirect: "manual",
    });
    await res.body?.cancel();
    return res.status >= 200 && res.status < 300;
  } catch {
    return false;
  }
}
