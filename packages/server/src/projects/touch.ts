import { eq } from "drizzle-orm";
import type { FastifyBaseLogger } from "fastify";
import type { Database } from "../db/client.ts";
import { projects } from "../db/schema-tenant.ts";

/** A project's `updatedAt` is written at most this often; a change inside the window is written at its end. */
export const TOUCH_INTERVAL_MS = 3_000;

interface Entry {
  orgId: string;
  /** When the row was last written (ms). */
  last: number;
  /** A write due at the end of the window. */
  timer: NodeJS.Timeout | undefined;
}

/**
 * Moves a project's `updatedAt` when its files change (file API writes, an agent turn's commit, a merged
 * task, a restore, a push), so the dashboard's "updated" time and order follow the work. Changes come in
 * bursts (an agent writes many files in a second): one row write per project per window, the last change of
 * a burst included. Fire and forget: a lost touch costs a stale timestamp, never the change itself.
 */
export class ProjectTouches {
  readonly #database: Database;
  readonly #schemaOf: (orgId: string) => Promise<{ schemaName: string }>;
  readonly #intervalMs: number;
  readonly #log: FastifyBaseLogger;
  readonly #entries = new Map<string, Entry>();
  readonly #writing = new Set<Promise<void>>();
  #closed = false;

  constructor(d: {
    database: Database;
    /** The org's row (its tenant schema); `OrgService.row`. */
    schemaOf: (orgId: string) => Promise<{ schemaName: string }>;
    log: FastifyBaseLogger;
    intervalMs?: number;
  }) {
    this.#database = d.database;
    this.#schemaOf = d.schemaOf;
    this.#log = d.log;
    this.#intervalMs = d.intervalMs ?? TOUCH_INTERVAL_MS;
  }

  /** The project's files changed just now. */
  touch(orgId: string, projectId: string): void {
    if (this.#closed) return;
    const now = Date.now();
    const entry = this.#entries.get(projectId);
    if (!entry || now - entry.last >= this.#intervalMs) {
      if (entry?.timer) return;
      this.#forgetOld(now);
      this.#entries.set(projectId, { orgId, last: now, timer: undefined });
      this.#write(orgId, projectId);
      return;
    }
    if (entry.timer) return;
    entry.timer = setTimeout(
      () => {
        entry.timer = undefined;
        entry.last = Date.now();
        this.#write(entry.orgId, projectId);
      },
      entry.last + this.#intervalMs - now,
    );
    entry.timer.unref();
  }

  /** Writes what is due now rather than at the end of its window, and waits for every write. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const [projectId, entry] of this.#entries) {
      if (!entry.timer) continue;
      clearTimeout(entry.timer);
      entry.timer = undefined;
      this.#write(entry.orgId, projectId);
    }
    this.#entries.clear();
    await Promise.all(this.#writing);
  }

  #write(orgId: string, projectId: string): void {
    const done = (async () => {
      try {
        const { schemaName } = await this.#schemaOf(orgId);
        await this.#database.tenant(schemaName, (tx) =>
          tx.update(projects).set({ updatedAt: new Date() }).where(eq(projects.id, projectId)),
        );
      } catch (err) {
        // The org or project may be gone by now; nothing else depends on this timestamp.
        this.#log.debug({ err, orgId, projectId }, "could not mark the project updated");
      }
    })();
    this.#writing.add(done);
    void done.finally(() => this.#writing.delete(done));
  }

  /** Entries whose window has passed say nothing any more; they go once there are many. */
  #forgetOld(now: number): void {
    if (this.#entries.size < 1_000) return;
    for (const [id, entry] of this.#entries)
      if (!entry.timer && now - entry.last >= this.#intervalMs) this.#entries.delete(id);
  }
}
