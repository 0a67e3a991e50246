import { createHash } from "node:crypto";
import type { PreviewError, PreviewErrorReport } from "@kiln/protocol";
import type { LogBuffer } from "../devserver/log-buffer.ts";
import { extractLogErrors } from "./errors-log.ts";

export interface PreviewErrorsOptions {
  /** The dev server's output for a project, when the runtime has one. */
  logsOf(orgId: string, projectId: string): LogBuffer | undefined;
  /** Distinct browser errors kept per project (oldest dropped first). */
  capacity?: number;
  /** Browser reports accepted per project per minute; the rest are refused (429). */
  reportsPerMinute?: number;
  /** Projects whose browser errors are kept at once; the least recently reported are dropped. */
  maxProjects?: number;
}

interface BrowserEntry {
  error: PreviewError;
}

/**
 * Errors of running projects, in memory: browser reports in a bounded buffer per project, and dev server
 * errors read from the dev server's own (bounded) log when asked, since its last start. `recent()` is what
 * the agent's `preview_status` tool and a "fix this error" turn read; `clear()` hides what was seen so far.
 */
export class PreviewErrors {
  readonly #o: Required<Omit<PreviewErrorsOptions, "logsOf">> & Pick<PreviewErrorsOptions, "logsOf">;
  readonly #browser = new Map<string, Map<string, BrowserEntry>>();
  readonly #rates = new Map<string, { windowStart: number; count: number }>();
  /** Log lines up to this sequence number were cleared; keyed by buffer, which a project keeps for life. */
  readonly #clearedLog = new WeakMap<LogBuffer, number>();

  constructor(options: PreviewErrorsOptions) {
    this.#o = { capacity: 50, reportsPerMinute: 60, maxProjects: 5_000, ...options };
  }

  /** Counts one report against the project's budget; false when it is spent for this minute. */
  allow(orgId: string, projectId: string, now = Date.now()): boolean {
    const key = keyOf(orgId, projectId);
    let rate = this.#rates.get(key);
    if (!rate || now - rate.windowStart >= 60_000) {
      rate = { windowStart: now, count: 0 };
      this.#rates.delete(key);
      this.#rates.set(key, rate);
      if (this.#rates.size > this.#o.maxProjects) this.#rates.delete(this.#rates.keys().next().value!);
    }
    rate.count++;
    return rate.count <= this.#o.reportsPerMinute;
  }

  /** Records an error the preview page reported (already validated against `PreviewErrorReport`). */
  report(orgId: string, projectId: string, report: PreviewErrorReport, now = Date.now()): void {
    const key = keyOf(orgId, projectId);
    let entries = this.#browser.get(key);
    if (entries) this.#browser.delete(key);
    entries ??= new Map();
    this.#browser.set(key, entries);
    if (this.#browser.size > this.#o.maxProjects) this.#browser.delete(this.#browser.keys().next().value!);

    const identity = [
      report.kind,
      report.message,
      report.url ?? "",
      report.line ?? "",
      report.col ?? "",
    ].join("\0");
    const at = new Date(now).toISOString();
    const found = entries.get(identity);
    if (found) {
      entries.delete(identity);
      found.error.count++;
      found.error.lastAt = at;
      entries.set(identity, found);
      return;
    }
    entries.set(identity, {
      error: {
        id: `browser-${digest(identity)}`,
        source: "browser",
        kind: report.kind,
        message: report.message,
        detail: report.stack ?? null,
        url: report.url ?? null,
        line: report.line ?? null,
        column: report.col ?? null,
        page: report.page ?? null,
        count: 1,
        firstAt: at,
        lastAt: at,
      },
    });
    if (entries.size > this.#o.capacity) entries.delete(entries.keys().next().value!);
  }

  /** The project's errors, dev server and browser merged, oldest first (the newest is last). */
  recent(orgId: string, projectId: string, limit = 50): PreviewError[] {
    const browser = [...(this.#browser.get(keyOf(orgId, projectId))?.values() ?? [])].map((e) => ({
      ...e.error,
    }));
    const all = [...this.#serverErrors(orgId, projectId), ...browser];
    all.sort((a, b) => a.lastAt.localeCompare(b.lastAt));
    return all.slice(-limit);
  }

  /** Forgets the errors seen so far (after a fix); later ones are collected again. */
  clear(orgId: string, projectId: string): void {
    this.#browser.delete(keyOf(orgId, projectId));
    this.#clearLog(orgId, projectId);
  }

  /**
   * A preview page loaded and stayed free of errors: the app works again. What that page reported before
   * (a half-done edit's crash, a failed reload) and the dev server's build errors so far are history;
   * other pages' errors stay until those pages load cleanly too.
   */
  recovered(orgId: string, projectId: string, page: string | undefined): void {
    const entries = this.#browser.get(keyOf(orgId, projectId));
    for (const [identity, entry] of entries ?? []) {
      if (entry.error.page === null || entry.error.page === (page ?? null)) entries!.delete(identity);
    }
    this.#clearLog(orgId, projectId);
  }

  #clearLog(orgId: string, projectId: string): void {
    const log = this.#o.logsOf(orgId, projectId);
    const last = log?.since(0).at(-1);
    if (log && last) this.#clearedLog.set(log, last.seq);
  }

  forgetProject(orgId: string, projectId: string): void {
    this.#forget(keyOf(orgId, projectId));
  }

  forgetOrg(orgId: string): void {
    this.#forget(`${orgId}/`);
  }

  /** Drops everything about a deleted project, or every project of a deleted org. */
  #forget(prefix: string): void {
    for (const map of [this.#browser, this.#rates]) {
      for (const key of map.keys()) if (key === prefix || key.startsWith(prefix)) map.delete(key);
    }
  }

  #serverErrors(orgId: string, projectId: string): PreviewError[] {
    const log = this.#o.logsOf(orgId, projectId);
    if (!log) return [];
    const cleared = this.#clearedLog.get(log) ?? 0;
    const lines = log.since(cleared);
    // Errors of an earlier run of the dev server are history: the manager logs `$ <command>` at each start.
    let start = 0;
    for (let i = lines.length - 1; i >= 0; i--) {
      if (lines[i]!.stream === "system" && lines[i]!.text.startsWith("$ ")) {
        start = i;
        break;
      }
    }
    return extractLogErrors(lines.slice(start)).map((e) => ({
      id: `server-${digest(e.message)}`,
      source: "server",
      kind: "log",
      message: e.message,
      detail: e.detail || null,
      url: null,
      line: null,
      column: null,
      page: null,
      count: e.count,
      firstAt: new Date(e.firstAt).toISOString(),
      lastAt: new Date(e.lastAt).toISOString(),
    }));
  }
}

function keyOf(orgId: string, projectId: string): string {
  return `${orgId}/${projectId}`;
}

function digest(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 16);
}
