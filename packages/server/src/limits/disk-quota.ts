import { type DiskUsage, measureDiskUsage } from "./disk-usage.ts";
import { formatBytes, LimitExceededError } from "./errors.ts";
import type { LiveSandboxes } from "./live-sandboxes.ts";

export interface DiskQuotaOptions {
  /** Bytes per project; 0 = no quota. */
  limitBytes: number;
  /** How often projects with live sandboxes are measured; 0 = only when something asks. */
  checkMs: number;
  dirOf(orgId: string, projectId: string): string;
  ownerOf(projectId: string): { uid: number; gid: number } | undefined;
  sandboxes: LiveSandboxes;
  log?: { warn(obj: object, msg: string): void };
}

interface Measured {
  at: number;
  usage: DiskUsage;
}

/**
 * A measurement younger than this answers the next check while no sandbox has run in the project since
 * (then only Kiln wrote, and counted what it wrote); otherwise every check measures.
 */
const FRESH_MS = 5_000;

/**
 * The per-project disk quota. This kernel has no quota support (ext4/XFS project quotas need
 * CONFIG_QUOTA / XFS quota, both absent), so it is enforced from outside:
 *  - nothing starts in a project over its quota (terminal, dev server, agent command), and the file API
 *    refuses writes that would cross it;
 *  - while a project has live sandboxes it is measured every `checkMs`; one found over has them stopped;
 *  - every sandbox runs with RLIMIT_FSIZE at the quota, so no single file can outgrow it (`dd` gets EFBIG).
 * A sandbox can still overshoot with many files for up to one check interval.
 */
export class DiskQuota {
  readonly #o: DiskQuotaOptions;
  readonly #measured = new Map<string, Measured>();
  readonly #inFlight = new Map<string, Promise<Measured>>();
  readonly #timer: NodeJS.Timeout | undefined;
  #sweeping = false;
  #closed = false;

  constructor(options: DiskQuotaOptions) {
    this.#o = options;
    if (options.limitBytes > 0 && options.checkMs > 0) {
      this.#timer = setInterval(() => void this.sweep(), options.checkMs);
      this.#timer.unref();
    }
  }

  get limitBytes(): number {
    return this.#o.limitBytes;
  }

  /** The project's usage, measured at most `maxAgeMs` ago. */
  async usage(orgId: string, projectId: string, maxAgeMs = FRESH_MS): Promise<DiskUsage> {
    const key = `${orgId}/${projectId}`;
    const known = this.#measured.get(key);
    // A sandbox writes without telling: only a measurement taken after its last one ended still holds.
    const fresh =
      known && Date.now() - known.at <= maxAgeMs && known.at > this.#o.sandboxes.lastActive(orgId, projectId);
    if (known && fresh) return known.usage;
    let pending = this.#inFlight.get(key);
    if (!pending) {
      const at = Date.now();
      pending = measureDiskUsage(this.#o.dirOf(orgId, projectId), this.#o.ownerOf(projectId))
        .then((usage) => {
          const m = { at, usage };
          this.#measured.set(key, m);
          return m;
        })
        .finally(() => this.#inFlight.delete(key));
      this.#inFlight.set(key, pending);
    }
    return (await pending).usage;
  }

  /**
   * Starts measuring a project whose sandbox just ended, so the next command's check finds the answer
   * ready (or in flight) instead of walking the tree on its critical path. Started after the end, so it
   * counts everything that sandbox wrote.
   */
  refreshSoon(orgId: string, projectId: string): void {
    if (this.#o.limitBytes <= 0 || this.#closed) return;
    // "Fresh" means measured strictly after the last sandbox ended: start in the next millisecond.
    const timer = setTimeout(() => {
      if (this.#closed) return;
      this.usage(orgId, projectId).catch((err: unknown) => {
        this.#o.log?.warn({ orgId, projectId, err }, "measuring a project's disk use failed");
      });
    }, 1);
    timer.unref();
  }

  /** Refuses when the project is over its quota, or would be after writing `addBytes` more. */
  async assertRoom(orgId: string, projectId: string, addBytes = 0): Promise<void> {
    const max = this.#o.limitBytes;
    if (max <= 0) return;
    let usage = await this.usage(orgId, projectId);
    // A refusal is worth a fresh look: files deleted since the last measurement count.
    if (usage.unreadable !== undefined || usage.bytes + addBytes > max)
      usage = await this.usage(orgId, projectId, 0);
    if (usage.unreadable !== undefined) {
      throw new LimitExceededError(
        "project_disk",
        max,
        `this project's disk use cannot be measured: "${usage.unreadable}" cannot be read by the project's own user; make it readable (chmod u+rx) or remove it`,
        { unit: "bytes" },
      );
    }
    if (usage.bytes + addBytes > max) {
      throw new LimitExceededError(
        "project_disk",
        max,
        `this project uses ${formatBytes(usage.bytes)} of disk${addBytes ? `; ${formatBytes(addBytes)} more` : ""} would exceed its quota of ${formatBytes(max)}; delete files first`,
        { current: usage.bytes, unit: "bytes" },
      );
    }
  }

  /** A write of this many bytes went through: counted until the next measurement. */
  noteWrite(orgId: string, projectId: string, bytes: number): void {
    const known = this.#measured.get(`${orgId}/${projectId}`);
    if (known) known.usage = { ...known.usage, bytes: known.usage.bytes + bytes };
  }

  /** Measures every project with live sandboxes now and stops those of a project over its quota. */
  async sweep(): Promise<number> {
    if (this.#sweeping || this.#o.limitBytes <= 0) return 0;
    this.#sweeping = true;
    let stopped = 0;
    try {
      for (const { orgId, projectId } of this.#o.sandboxes.projects()) {
        try {
          await this.assertRoom(orgId, projectId).catch(async (err: unknown) => {
            if (!(err instanceof LimitExceededError)) throw err;
            stopped += await this.#o.sandboxes.killProject(orgId, projectId);
            this.#o.log?.warn({ orgId, projectId, err: err.message }, "project over its disk quota: stopped");
          });
        } catch (err) {
          this.#o.log?.warn({ orgId, projectId, err }, "measuring a project's disk use failed");
        }
      }
    } finally {
      this.#sweeping = false;
    }
    return stopped;
  }

  forget(orgId: string, projectId?: string): void {
    for (const key of this.#measured.keys()) {
      if (key === `${orgId}/${projectId}` || (projectId === undefined && key.startsWith(`${orgId}/`)))
        this.#measured.delete(key);
    }
  }

  close(): void {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
  }
}
