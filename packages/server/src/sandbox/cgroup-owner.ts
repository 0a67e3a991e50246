import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { CgroupV1 } from "./cgroup.ts";

/**
 * Which Kiln process a sandbox's cgroups belong to, so that the sandboxes of a process that died are
 * ended by whichever Kiln process on the host notices first.
 *
 * bwrap's `--die-with-parent` (and `setpriv --pdeathsig`) only take effect once armed: a Kiln process
 * killed between starting a sandbox and the moment its outer bwrap, or that bwrap's child, arms its
 * parent-death signal leaves the sandbox running as an orphan of the host's pid 1. Every group's name
 * ends in its owner's tag — pid namespace, pid and start time (a pid alone can be reused) — and a sweep
 * kills what runs in the groups of owners that are gone and removes the groups.
 */
const SEPARATOR = "~o";
const ROOT = "/sys/fs/cgroup";
const CONTROLLERS = ["memory", "pids", "cpu"] as const;

interface Owner {
  pidNamespace: number;
  pid: number;
  start: number;
}

let me: Owner | undefined;

/** This process's tag: appended to the name of every cgroup it creates. */
export const OWNER_TAG = tagOf(self());

/** A group name that records this process as its owner. */
export function ownedName(base: string): string {
  return `${base}${SEPARATOR}${OWNER_TAG}`;
}

/**
 * Whether the group `name` belongs to a Kiln process of this pid namespace that no longer runs. Groups
 * without a tag (made by an older Kiln) and those of other pid namespaces (another container sharing the
 * host's cgroups) are never judged: their owner cannot be seen from here.
 */
export function orphaned(name: string): boolean {
  const at = name.lastIndexOf(SEPARATOR);
  if (at < 0) return false;
  const owner = parseTag(name.slice(at + SEPARATOR.length));
  if (!owner || owner.pidNamespace !== self().pidNamespace) return false;
  return startTime(owner.pid) !== owner.start;
}

/**
 * Kills every process in the orphaned groups under `kiln/` and removes them; the names it swept. Cheap
 * when there is nothing to do: three directory reads.
 */
export async function sweepOrphans(): Promise<string[]> {
  const names = new Set<string>();
  for (const c of CONTROLLERS) {
    try {
      for (const name of readdirSync(path.join(ROOT, c, "kiln"))) names.add(name);
    } catch {
      // no such controller, or no group ever made
    }
  }
  const orphans = [...names].filter((name) => orphaned(name));
  await Promise.all(orphans.map((name) => new CgroupV1(name).destroy()));
  return orphans;
}

/** Sweeps now and every `everyMs` until the returned stop is called; never keeps the process alive. */
export function sweepOrphansEvery(everyMs: number, onSwept: (names: string[]) => void): () => void {
  let running = false;
  const run = () => {
    if (running) return;
    running = true;
    sweepOrphans()
      .then((names) => names.length > 0 && onSwept(names))
      .catch(() => {})
      .finally(() => {
        running = false;
      });
  };
  run();
  const timer = setInterval(run, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}

function self(): Owner {
  me ??= {
    pidNamespace: safeIno("/proc/self/ns/pid"),
    pid: process.pid,
    start: startTime(process.pid) ?? 0,
  };
  return me;
}

function tagOf(o: Owner): string {
  return `${o.pidNamespace}.${o.pid}.${o.start}`;
}

function parseTag(tag: string): Owner | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(tag);
  if (!m) return undefined;
  return { pidNamespace: Number(m[1]), pid: Number(m[2]), start: Number(m[3]) };
}

function safeIno(file: string): number {
  try {
    return statSync(file).ino;
  } catch {
    return 0;
  }
}

/** A process's start time in clock ticks since boot (field 22 of its stat), or undefined when it is gone. */
function startTime(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const value = Number(fields[19]);
    return Number.isFinite(value) ? value : undefined;
  } catch {
    return undefined;
  }
}
