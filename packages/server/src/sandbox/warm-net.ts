import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import type { EgressAllowEntry } from "@kiln/agent";
import { installFilter, Slirp, type Tools } from "./network.ts";

/** A project's warm network unused this long is stopped. */
const IDLE_MS = 30_000;
/** …and none is handed out once this old: the filter's host addresses are read when it is made. */
const MAX_AGE_MS = 5 * 60_000;

/**
 * A network namespace made once per project for its `egress` commands (the agent's `bash` with network,
 * `npm install`): slirp4netns attached and the egress filter loaded, so a command joins it instead of
 * starting both for itself (two more processes and a round trip through a start gate, each time).
 *
 * The namespace belongs to the host's user namespace and is held by a root `cat` that ends with Kiln (its
 * stdin is Kiln's pipe); slirp4netns exits with Kiln too (`--exit-fd`). Sandboxes join it with their
 * capabilities dropped in their own user namespace, which does not own it: they cannot change its
 * filter or interfaces, exactly as in a namespace of their own. What they share is only with commands of
 * the same project running at the same moment (loopback, abstract sockets); nothing of a command outlives
 * it (its pid namespace dies with it), so a later command finds none of an earlier one's processes.
 */
export class WarmNet {
  readonly #holder: ChildProcess;
  readonly #slirp: Slirp;
  /** The namespace, pinned by this descriptor: handed to each command, immune to pid reuse. */
  readonly fd: number;
  readonly born = Date.now();
  lastUsed = Date.now();
  users = 0;
  #dead = false;
  #fdClosed = false;

  private constructor(holder: ChildProcess, slirp: Slirp, fd: number) {
    // Background helpers: they must not keep Kiln (or a one-shot CLI) running.
    for (const child of [holder, slirp.child]) {
      child.unref();
      for (const stream of child.stdio) (stream as { unref?: () => void } | null)?.unref?.();
    }
    this.#holder = holder;
    this.#slirp = slirp;
    this.fd = fd;
    const die = () => this.stop();
    holder.once("exit", die);
    slirp.exited.then(die, die);
  }

  static async start(
    tools: Tools & { unshare: string },
    runDir: string,
    allow: readonly EgressAllowEntry[] = [],
  ): Promise<WarmNet> {
    const holder = spawn(
      tools.unshare,
      ["--net", "--", "/bin/sh", "-c", "echo ready && exec cat >/dev/null"],
      {
        stdio: ["pipe", "pipe", "ignore"],
        env: { PATH: "/usr/bin:/bin" },
      },
    );
    for (const stream of holder.stdio) stream?.on("error", () => {});
    let fd: number | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        holder.stdout?.once("data", () => resolve());
        holder.once("exit", (code) => reject(new Error(`the network holder exited (${code})`)));
        holder.once("error", reject);
      });
      const pid = holder.pid as number;
      fd = openSync(`/proc/${pid}/ns/net`, "r");
      const [started, filtered] = await Promise.allSettled([
        Slirp.start(pid, runDir, tools, { exitWithKiln: true }),
        installFilter(pid, "egress", tools, allow),
      ]);
      if (started.status === "fulfilled" && filtered.status === "fulfilled") {
        return new WarmNet(holder, started.value, fd);
      }
      if (started.status === "fulfilled") started.value.stop();
      throw started.status === "rejected" ? started.reason : (filtered as PromiseRejectedResult).reason;
    } catch (error) {
      holder.kill("SIGKILL");
      if (fd !== undefined) closeSync(fd);
      throw error;
    }
  }

  get alive(): boolean {
    return !this.#dead;
  }

  /** Whether a new command may still join it (alive, and its filter not older than MAX_AGE_MS). */
  get usable(): boolean {
    return !this.#dead && Date.now() - this.born < MAX_AGE_MS;
  }

  /** Ends the holder and slirp4netns; the descriptor is closed once no command is being started with it. */
  stop(): void {
    if (!this.#dead) {
      this.#dead = true;
      this.#holder.kill("SIGKILL");
      this.#slirp.stop();
    }
    this.#closeIfUnused();
  }

  /** One command less; a stopped network's descriptor goes with its last one. */
  leave(): void {
    this.users--;
    this.lastUsed = Date.now();
    if (this.#dead) this.#closeIfUnused();
  }

  #closeIfUnused(): void {
    if (this.users > 0 || this.#fdClosed) return;
    this.#fdClosed = true;
    // Commands that joined hold the namespace through their own reference; this one is only ours.
    closeSync(this.fd);
  }
}

/** One warm network per project, made on its first `egress` command and stopped when idle. */
export class WarmNets {
  readonly #nets = new Map<string, WarmNet>();
  readonly #starting = new Map<string, Promise<WarmNet>>();
  readonly #tools: Tools & { unshare: string };
  readonly #runDir: string;
  readonly #allow: readonly EgressAllowEntry[];
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(tools: Tools & { unshare: string }, runDir: string, allow: readonly EgressAllowEntry[] = []) {
    this.#tools = tools;
    this.#runDir = runDir;
    this.#allow = allow;
  }

  /** The project's warm network, counted as in use until `release`. */
  async acquire(project: string): Promise<WarmNet> {
    if (this.#closed) throw new Error("the sandbox driver is closed");
    let net = this.#nets.get(project);
    if (!net?.usable) {
      if (net && net.users === 0) net.stop();
      this.#nets.delete(project);
      let starting = this.#starting.get(project);
      if (!starting) {
        starting = WarmNet.start(this.#tools, this.#runDir, this.#allow).finally(() =>
          this.#starting.delete(project),
        );
        this.#starting.set(project, starting);
      }
      net = await starting;
      if (this.#closed) {
        net.stop();
        throw new Error("the sandbox driver is closed");
      }
      this.#nets.set(project, net);
      this.#schedule();
    }
    net.users++;
    return net;
  }

  release(net: WarmNet): void {
    net.leave();
    // Replaced meanwhile (too old, or dead) and now unused: nothing will hand it out again.
    if (net.users === 0 && ![...this.#nets.values()].includes(net)) net.stop();
  }

  /** Stops `project`'s warm network once no command uses it (at once if none does). */
  forget(project: string): void {
    const net = this.#nets.get(project);
    this.#nets.delete(project);
    if (net && net.users === 0) net.stop();
  }

  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    for (const net of this.#nets.values()) net.stop();
    this.#nets.clear();
  }

  #schedule(): void {
    if (this.#timer || this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      const cutoff = Date.now() - IDLE_MS;
      for (const [project, net] of this.#nets) {
        if (net.users === 0 && (net.lastUsed <= cutoff || !net.usable)) {
          net.stop();
          this.#nets.delete(project);
        }
      }
      if (this.#nets.size > 0) this.#schedule();
    }, IDLE_MS / 2);
    this.#timer.unref();
  }
}
