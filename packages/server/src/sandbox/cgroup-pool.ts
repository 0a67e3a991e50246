import { randomBytes } from "node:crypto";
import { CgroupV1 } from "./cgroup.ts";
import { ownedName } from "./cgroup-owner.ts";
import type { ResourceLimits } from "./driver.ts";

/** Idle groups kept per project; more than this (a burst of parallel commands) are removed. */
const MAX_IDLE_PER_PROJECT = 4;
/** An idle group unused this long is removed. */
const IDLE_MS = 60_000;

interface Idle {
  group: CgroupV1;
  since: number;
}

/**
 * Cgroups made once per project and reused for its next sandboxes, so a command does not pay for creating
 * and removing three groups (and the kernel for setting up and tearing down their state) every time.
 *
 * A group only comes back to the pool empty: every process left in it is SIGKILLed and the three
 * controllers must list none; otherwise it is removed. Each run gets exactly its own limits (rewritten
 * where they differ from the previous run's) and its own OOM count. Groups never cross projects; a
 * project's pool is emptied by `forget` (project stopped or deleted), after `IDLE_MS` unused, and on
 * `close`.
 */
export class CgroupPool {
  readonly #idle = new Map<string, Idle[]>();
  /** Releases under way (checking a group empty), per project: `forget` waits for them. */
  readonly #releasing = new Map<string, Set<Promise<void>>>();
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  /** A group for one run of `project`'s sandbox, with these limits and no processes in it. */
  async acquire(project: string, limits: ResourceLimits): Promise<CgroupV1> {
    const list = this.#idle.get(project);
    const reused = list?.pop()?.group;
    if (list?.length === 0) this.#idle.delete(project);
    if (reused) {
      try {
        await reused.apply(limits);
        return reused;
      } catch {
        // A lower memory limit the kernel cannot reclaim down to, a group removed under us: a fresh one.
        void reused.destroy();
      }
    }
    const group = new CgroupV1(ownedName(`${project}-${randomBytes(4).toString("hex")}`));
    try {
      await group.create(limits);
    } catch (error) {
      await group.destroy();
      throw error;
    }
    return group;
  }

  /**
   * After the run's last process: kills whatever is still in the group, and keeps the group only if all
   * three controllers then list no process. Never on a command's critical path.
   */
  release(project: string, group: CgroupV1): Promise<void> {
    const pending = this.#release(project, group);
    const set = this.#releasing.get(project) ?? new Set();
    set.add(pending);
    this.#releasing.set(project, set);
    return pending.finally(() => {
      set.delete(pending);
      if (set.size === 0 && this.#releasing.get(project) === set) this.#releasing.delete(project);
    });
  }

  async #release(project: string, group: CgroupV1): Promise<void> {
    if (this.#closed) return group.destroy();
    try {
      await group.killAll();
      if ((await group.members()).length > 0) return await group.destroy();
      await group.resetCounters();
    } catch {
      return group.destroy();
    }
    if (this.#closed) return group.destroy();
    const list = this.#idle.get(project) ?? [];
    if (list.length >= MAX_IDLE_PER_PROJECT) return group.destroy();
    list.push({ group, since: Date.now() });
    this.#idle.set(project, list);
    this.#schedule();
  }

  /** Idle groups of `project` (for tests and the status page). */
  idle(project: string): readonly CgroupV1[] {
    return (this.#idle.get(project) ?? []).map((i) => i.group);
  }

  /**
   * Removes `project`'s idle groups (it was deleted), after the releases under way. A group still in use by
   * a running command comes back when that ends and expires after `IDLE_MS` like any other.
   */
  async forget(project: string): Promise<void> {
    await Promise.allSettled([...(this.#releasing.get(project) ?? [])]);
    const list = this.#idle.get(project) ?? [];
    this.#idle.delete(project);
    await Promise.all(list.map((i) => i.group.destroy()));
  }

  /** Removes every idle group at once (they hold no process, so nothing to wait for). */
  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    for (const list of this.#idle.values()) for (const i of list) i.group.destroySync();
    this.#idle.clear();
  }

  #schedule(): void {
    if (this.#timer || this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#sweep();
    }, IDLE_MS);
    this.#timer.unref();
  }

  async #sweep(): Promise<void> {
    const cutoff = Date.now() - IDLE_MS;
    const old: CgroupV1[] = [];
    for (const [project, list] of this.#idle) {
      const keep = list.filter((i) => i.since > cutoff);
      for (const i of list) if (i.since <= cutoff) old.push(i.group);
      if (keep.length > 0) this.#idle.set(project, keep);
      else this.#idle.delete(project);
    }
    await Promise.all(old.map((g) => g.destroy()));
    if (this.#idle.size > 0) this.#schedule();
  }
}
