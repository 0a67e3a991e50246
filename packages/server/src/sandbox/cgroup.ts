import { rmdirSync } from "node:fs";
import { access, constants, mkdir, readFile, rmdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { ResourceLimits } from "./driver.ts";

const ROOT = "/sys/fs/cgroup";
const CONTROLLERS = ["memory", "pids", "cpu"] as const;
const PERIOD = 100_000;

/**
 * One sandbox's cgroup v1 groups: `<controller>/kiln/<id>` under memory, pids and cpu. The sandbox's
 * first process joins them (a shell wrapper echoes its own pid into `cgroup.procs`) before it execs
 * bwrap, so everything the sandbox ever forks is counted and can be found again to be killed.
 */
export class CgroupV1 {
  readonly id: string;
  readonly dirs: string[];
  #applied: { memory?: number; pids?: number; quota?: number } = {};
  /** The memory controller's OOM counters when the current run started (a pooled group counts on). */
  #oomBase = { kills: 0, failcnt: 0 };

  constructor(id: string) {
    this.id = id;
    this.dirs = CONTROLLERS.map((c) => path.join(ROOT, c, "kiln", id));
  }

  /** Whether this host lets us create and limit cgroups v1 (root, writable controllers). */
  static async available(): Promise<string | undefined> {
    for (const c of CONTROLLERS) {
      const dir = path.join(ROOT, c);
      try {
        await access(path.join(dir, "cgroup.procs"), constants.W_OK);
        await mkdir(path.join(dir, "kiln"), { recursive: true });
      } catch (error) {
        return `cgroup v1 controller ${c} is not writable at ${dir} (${(error as Error).message})`;
      }
    }
    return undefined;
  }

  async create(limits: ResourceLimits): Promise<void> {
    await Promise.all(this.dirs.map((dir) => mkdir(dir, { recursive: true })));
    await this.apply(limits);
  }

  /**
   * Sets the limits, writing only what differs from what this group already has (a pooled group keeps
   * the values of its last run). The three controllers are independent: set side by side (on a busy
   * server every await is a trip through the event loop and the thread pool).
   */
  async apply(limits: ResourceLimits): Promise<void> {
    const [memory, pids, cpu] = this.dirs as [string, string, string];
    const was = this.#applied;
    const quota = Math.max(1000, Math.round(limits.cpu * PERIOD));
    const mem = limits.memoryBytes;
    const writes: Promise<void>[] = [];
    if (was.memory !== mem) {
      const limit = () => writeFile(path.join(memory, "memory.limit_in_bytes"), String(mem));
      // Without swap accounting the limit above already covers everything; with it, swap must not extend
      // it. memsw may never be below the memory limit: raised first when going up, set after going down.
      const memsw = () =>
        writeFile(path.join(memory, "memory.memsw.limit_in_bytes"), String(mem)).catch(() => {});
      const raising = was.memory !== undefined && mem > was.memory;
      writes.push(raising ? memsw().then(limit) : limit().then(memsw));
    }
    if (was.pids !== limits.maxProcesses) {
      writes.push(writeFile(path.join(pids, "pids.max"), String(limits.maxProcesses)));
    }
    if (was.quota !== quota) {
      writes.push(
        (async () => {
          if (was.quota === undefined) await writeFile(path.join(cpu, "cpu.cfs_period_us"), String(PERIOD));
          await writeFile(path.join(cpu, "cpu.cfs_quota_us"), String(quota));
        })(),
      );
    }
    // Unknown until every write went through: a failed one leaves the group to be written in full again.
    this.#applied = {};
    await Promise.all(writes);
    this.#applied = { memory: mem, pids: limits.maxProcesses, quota };
  }

  /** What the group's limit files hold now, as far as this object wrote them. */
  get applied(): Readonly<{ memory?: number; pids?: number; quota?: number }> {
    return this.#applied;
  }

  /** Shell lines that move the current shell (`$$`) into every group. */
  joinScript(): string {
    return this.dirs.map((d) => `echo $$ > '${d}/cgroup.procs'`).join(" && ");
  }

  async #oomCounters(): Promise<{ kills: number | undefined; failcnt: number }> {
    const [control, failcnt] = await Promise.all([
      readFile(path.join(this.dirs[0]!, "memory.oom_control"), "utf8").catch(() => ""),
      readFile(path.join(this.dirs[0]!, "memory.failcnt"), "utf8").catch(() => "0"),
    ]);
    const m = /oom_kill (\d+)/.exec(control);
    return { kills: m ? Number(m[1]) : undefined, failcnt: Number(failcnt) || 0 };
  }

  /** Whether the kernel's OOM killer acted in this group since the current run started. */
  async oomKilled(): Promise<boolean> {
    try {
      const now = await this.#oomCounters();
      if (now.kills !== undefined) return now.kills > this.#oomBase.kills;
      return now.failcnt > this.#oomBase.failcnt;
    } catch {
      return false;
    }
  }

  /** Starts a new run in a reused group: OOM kills before now belong to earlier runs. */
  async resetCounters(): Promise<void> {
    const now = await this.#oomCounters();
    this.#oomBase = { kills: now.kills ?? 0, failcnt: now.failcnt };
  }

  /** Every process of the group, as each controller lists it (they are joined together). */
  async members(): Promise<number[]> {
    const lists = await Promise.all(
      this.dirs.map((dir) => readFile(path.join(dir, "cgroup.procs"), "utf8").catch(() => "")),
    );
    return [...new Set(lists.flatMap((t) => t.split("\n").filter(Boolean).map(Number)))];
  }

  async pids(): Promise<number[]> {
    try {
      const text = await readFile(path.join(this.dirs[1]!, "cgroup.procs"), "utf8");
      return text
        .split("\n")
        .filter(Boolean)
        .map((s) => Number(s));
    } catch {
      return [];
    }
  }

  /**
   * SIGKILLs every process in the group until none is left (a fork bomb cannot outrun pids.max), except
   * `spare`: the outer bwrap, which then reaps its pid-namespace init and exits by itself. Killing it
   * first would orphan that init to the host's pid 1, which in a container may never reap it.
   */
  async killAll(spare?: number): Promise<void> {
    for (let round = 0; round < 100; round++) {
      const pids = (await this.pids()).filter((p) => p !== spare);
      if (pids.length === 0) return;
      for (const pid of pids) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
      await sleep(round < 10 ? 5 : 20);
    }
  }

  async destroy(): Promise<void> {
    await this.killAll();
    await Promise.all(this.dirs.map((dir) => CgroupV1.#remove(dir)));
  }

  /** Removes the (empty) groups at once; for shutdown. */
  destroySync(): void {
    for (const dir of this.dirs) {
      try {
        rmdirSync(dir);
      } catch {
        // busy or gone: left for the next start's clean-up
      }
    }
  }

  static async #remove(dir: string): Promise<void> {
    for (let i = 0; i < 50; i++) {
      try {
        await rmdir(dir);
        return;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === "ENOENT") return;
        // EBUSY: the last processes are still being reaped.
        await sleep(10);
      }
    }
  }
}
