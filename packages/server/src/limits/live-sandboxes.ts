import type { LimitsConfig } from "../config.ts";
import { formatBytes, LimitExceededError } from "./errors.ts";

/** What a live sandbox is for; all three count against the org's sandboxes, memory and CPU. */
export type SandboxKind = "devserver" | "terminal" | "command";

export interface SandboxClaim {
  kind: SandboxKind;
  orgId: string;
  projectId: string;
  /** Who opened it (terminals and agent commands); a dev server belongs to its project only. */
  userId?: string | undefined;
  /** Its cgroup memory limit, bytes. */
  memoryBytes: number;
  /** Its CPU quota, cores. */
  cpu: number;
}

export interface SandboxLease {
  /** Stops the sandbox (the disk watchdog's way of enforcing a quota); set once it runs. */
  onKill(kill: () => Promise<void>): void;
  release(): void;
}

interface Entry extends SandboxClaim {
  kill?: () => Promise<void>;
}

type Limits = Pick<
  LimitsConfig,
  "sandboxesPerOrg" | "terminalsPerOrg" | "terminalsPerUser" | "orgMemoryBytes" | "orgCpus"
>;

/**
 * The sandboxes running on this replica, with the limits the driver gives their cgroups. `admit` checks a
 * new one against its org's (and user's) budget and reserves its place in the same synchronous step, so
 * two starts racing each other cannot both take the last place. Per replica: each process counts its own.
 */
export class LiveSandboxes {
  readonly #limits: Limits;
  readonly #live = new Set<Entry>();
  /** When each project's last sandbox ended ("org/project" → ms). */
  readonly #ended = new Map<string, number>();

  constructor(limits: Limits) {
    this.#limits = limits;
  }

  admit(claim: SandboxClaim): SandboxLease {
    const l = this.#limits;
    const org = [...this.#live].filter((e) => e.orgId === claim.orgId);
    exceeds(l.sandboxesPerOrg, org.length + 1, () => {
      throw new LimitExceededError(
        "sandboxes_per_org",
        l.sandboxesPerOrg,
        `this org already runs ${org.length} sandboxes (dev servers, terminals and agent commands; at most ${l.sandboxesPerOrg}); stop one first`,
        { current: org.length },
      );
    });
    if (claim.kind === "terminal") {
      const terminals = org.filter((e) => e.kind === "terminal").length;
      exceeds(l.terminalsPerOrg, terminals + 1, () => {
        throw new LimitExceededError(
          "terminals_per_org",
          l.terminalsPerOrg,
          `this org already has ${terminals} open terminals (at most ${l.terminalsPerOrg}); close one first`,
          { current: terminals },
        );
      });
      const mine = [...this.#live].filter((e) => e.kind === "terminal" && e.userId === claim.userId).length;
      exceeds(l.terminalsPerUser, mine + 1, () => {
        throw new LimitExceededError(
          "terminals_per_user",
          l.terminalsPerUser,
          `you already have ${mine} open terminals across your projects (at most ${l.terminalsPerUser}); close one first`,
          { current: mine },
        );
      });
    }
    const memory = org.reduce((sum, e) => sum + e.memoryBytes, 0);
    exceeds(l.orgMemoryBytes, memory + claim.memoryBytes, () => {
      throw new LimitExceededError(
        "org_memory",
        l.orgMemoryBytes,
        `this org's running sandboxes may use ${formatBytes(memory)} of memory; ${formatBytes(claim.memoryBytes)} more would exceed its budget of ${formatBytes(l.orgMemoryBytes)}; stop a dev server or terminal first`,
        { current: memory, unit: "bytes" },
      );
    });
    const cpu = org.reduce((sum, e) => sum + e.cpu, 0);
    // Cores are fractions: compare in thousandths so 0.1 + 0.2 does not exceed 0.3.
    exceeds(Math.round(l.orgCpus * 1000), Math.round((cpu + claim.cpu) * 1000), () => {
      throw new LimitExceededError(
        "org_cpu",
        l.orgCpus,
        `this org's running sandboxes may use ${cpu} CPU cores; ${claim.cpu} more would exceed its budget of ${l.orgCpus}; stop a dev server or terminal first`,
        { current: cpu, unit: "cores" },
      );
    });
    const entry: Entry = { ...claim };
    this.#live.add(entry);
    return {
      onKill: (kill) => {
        entry.kill = kill;
      },
      release: () => {
        if (this.#live.delete(entry)) this.#ended.set(`${entry.orgId}/${entry.projectId}`, Date.now());
      },
    };
  }

  /** Projects with something running (the disk watchdog measures these). */
  projects(): Array<{ orgId: string; projectId: string }> {
    const seen = new Map<string, { orgId: string; projectId: string }>();
    for (const e of this.#live)
      seen.set(`${e.orgId}/${e.projectId}`, { orgId: e.orgId, projectId: e.projectId });
    return [...seen.values()];
  }

  /**
   * Since when a project's files may have changed behind Kiln's back: now while a sandbox runs in it,
   * else when its last one ended (0: none on this replica since it started).
   */
  lastActive(orgId: string, projectId: string): number {
    for (const e of this.#live) if (e.orgId === orgId && e.projectId === projectId) return Date.now();
    return this.#ended.get(`${orgId}/${projectId}`) ?? 0;
  }

  /** Stops every live sandbox of a project; resolves when each has been asked to and has stopped. */
  async killProject(orgId: string, projectId: string): Promise<number> {
    const doomed = [...this.#live].filter((e) => e.orgId === orgId && e.projectId === projectId && e.kill);
    await Promise.all(doomed.map((e) => e.kill?.().catch(() => {})));
    return doomed.length;
  }

  /** What an org uses now (status pages, tests). */
  usage(orgId: string): { sandboxes: number; terminals: number; memoryBytes: number; cpu: number } {
    const org = [...this.#live].filter((e) => e.orgId === orgId);
    return {
      sandboxes: org.length,
      terminals: org.filter((e) => e.kind === "terminal").length,
      memoryBytes: org.reduce((sum, e) => sum + e.memoryBytes, 0),
      cpu: org.reduce((sum, e) => sum + e.cpu, 0),
    };
  }
}

/** Calls `refuse` when `wanted` is over a cap that is on (0 = no limit). */
function exceeds(max: number, wanted: number, refuse: () => never): void {
  if (max > 0 && wanted > max) refuse();
}
