import type { LimitsConfig } from "../config.ts";
import {
  type ExecRequest,
  type ExecResult,
  resolveLimits,
  type SandboxDriver,
  type SandboxProcess,
  type SandboxSpec,
  type SpawnRequest,
} from "../sandbox/driver.ts";
import { DiskQuota } from "./disk-quota.ts";
import { LiveSandboxes, type SandboxClaim } from "./live-sandboxes.ts";

export { assertOrgRoom, assertProjectRoom, assertRunRoom } from "./counts.ts";
export { formatBytes, LimitExceededError, type LimitName } from "./errors.ts";

/** Who a sandbox runs for; its memory and CPU come from the limits it is started with. */
export type SandboxOwner = Omit<SandboxClaim, "memoryBytes" | "cpu">;

export interface LimitsOptions {
  config: LimitsConfig;
  dirOf(orgId: string, projectId: string): string;
  ownerOf(projectId: string): { uid: number; gid: number } | undefined;
  log?: { warn(obj: object, msg: string): void };
}

/**
 * The aggregate limits every place that starts tenant work asks (ADR: limits per org, user and project).
 * Database-counted limits (projects, orgs, chat turns) are the functions re-exported above; sandboxes
 * (dev servers, terminals, agent commands) go through `guard`, which checks the project's disk quota and
 * its org's budgets before each start and gives every sandbox RLIMIT_FSIZE at the disk quota.
 */
export class Limits {
  readonly config: LimitsConfig;
  readonly sandboxes: LiveSandboxes;
  readonly disk: DiskQuota;

  constructor(options: LimitsOptions) {
    this.config = options.config;
    this.sandboxes = new LiveSandboxes(options.config);
    this.disk = new DiskQuota({
      limitBytes: options.config.projectDiskBytes,
      checkMs: options.config.diskCheckMs,
      dirOf: options.dirOf,
      ownerOf: options.ownerOf,
      sandboxes: this.sandboxes,
      ...(options.log ? { log: options.log } : {}),
    });
  }

  /** Refuses what `guard` would refuse for this sandbox now, without starting anything (a quick 4xx). */
  async check(owner: SandboxOwner, spec: SandboxSpec): Promise<void> {
    await this.disk.assertRoom(owner.orgId, owner.projectId);
    this.sandboxes.admit(this.#claim(owner, spec)).release();
  }

  /** The driver as seen by one owner: every exec and spawn is admitted first and counted while it lives. */
  guard(owner: SandboxOwner, driver: SandboxDriver): SandboxDriver {
    const limits = this;
    return {
      name: driver.name,
      unsandboxed: driver.unsandboxed,
      guestUid: driver.guestUid,
      check: () => driver.check(),
      workspaceOwner: (projectId) => driver.workspaceOwner(projectId),
      async exec(spec: SandboxSpec, request: ExecRequest): Promise<ExecResult> {
        const req = limits.#withFileLimit(request);
        await limits.disk.assertRoom(owner.orgId, owner.projectId);
        const lease = limits.sandboxes.admit(limits.#claim(owner, spec, req));
        const stop = new AbortController();
        lease.onKill(async () => stop.abort());
        try {
          const signal = req.signal ? AbortSignal.any([req.signal, stop.signal]) : stop.signal;
          return await driver.exec(spec, { ...req, signal });
        } finally {
          lease.release();
          // The agent runs commands back to back; measure now, between them, not before the next one.
          limits.disk.refreshSoon(owner.orgId, owner.projectId);
        }
      },
      async spawn(spec: SandboxSpec, request: SpawnRequest): Promise<SandboxProcess> {
        const req = limits.#withFileLimit(request);
        await limits.disk.assertRoom(owner.orgId, owner.projectId);
        const lease = limits.sandboxes.admit(limits.#claim(owner, spec, req));
        try {
          const proc = await driver.spawn(spec, req);
          lease.onKill(() => proc.kill());
          void proc.exited.finally(() => lease.release());
          return proc;
        } catch (err) {
          lease.release();
          throw err;
        }
      },
    };
  }

  close(): void {
    this.disk.close();
  }

  #claim(owner: SandboxOwner, spec: SandboxSpec, request?: ExecRequest | SpawnRequest): SandboxClaim {
    const l = resolveLimits(spec.limits, request?.limits);
    return { ...owner, memoryBytes: l.memoryBytes, cpu: l.cpu };
  }

  #withFileLimit<R extends ExecRequest | SpawnRequest>(request: R): R {
    const max = this.config.projectDiskBytes;
    if (max <= 0) return request;
    return { ...request, limits: { fileBytes: max, ...request.limits } };
  }
}
