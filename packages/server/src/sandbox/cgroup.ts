import { access, constants, mkdir, readFile, rmdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { ResourceLimits } from "./driver.ts";

const ROOT = "/sys/fs/cgroup";
const CONTROLLERS = ["memory", "pids", "cpu"] as const;

/**
 * One sandbox's cgroup v1 groups: `<controller>/kiln/<id>` under memory, pids and cpu. The sandbox's
 * first process joins them (a shell wrapper echoes its own pid into `cgroup.procs`) before it execs
 * bwrap, so everything the sandbox ever forks is counted and can be found again to be killed.
 */
export class CgroupV1 {
  readonly id: string;
  readonly dirs: string[];

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
    const [memory, pids, cpu] = this.dirs as [string, string, string];
    // The three controllers are independent: set up side by side (on a busy server every await is a
    // trip through the event loop and the thread pool; in sequence they cost up to tens of ms).
    const period = 100_000;
    await Promise.all([
      (async () => {
        await mkdir(memory, { recursive: true });
        await writeFile(path.join(memory, "memory.limit_in_bytes"), String(limits.memoryBytes));
        // Without swap accounting the limit above already covers everything; with it, swap must not extend it.
        await writeFile(path.join(memory, "memory.memsw.limit_in_bytes"), String(limits.memoryBytes)).catch(
          () => {},
        );
      })(),
      (async () => {
        await mkdir(pids, { recursive: true });
        await writeFile(path.join(pids, "pids.max"), String(limits.maxProcesses));
      })(),
      (async () => {
        await mkdir(cpu, { recursive: true });
        await writeFile(path.join(cpu, "cpu.cfs_period_us"), String(period));
        await writeFile(
          path.join(cpu, "cpu.cfs_quota_us"),
          String(Math.max(1000, Math.round(limits.cpu * period))),
        );
      })(),
    ]);
  }

  /** Shell lines that move the current shell (`$$`) into every group. */
  joinScript(): string {
    return this.dirs.map((d) => `echo $$ > '${d}/cgroup.procs'`).join(" && ");
  }

  async oomKilled(): Promise<boolean> {
    try {
      const text = await readFile(path.join(this.dirs[0]!, "memory.oom_control"), "utf8");
      const m = /oom_kill (\d+)/.exec(text);
      if (m) return Number(m[1]) > 0;
      const failcnt = await readFile(path.join(this.dirs[0]!, "memory.failcnt"), "utf8");
      return Number(failcnt) > 0;
    } catch {
      return false;
    }
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
