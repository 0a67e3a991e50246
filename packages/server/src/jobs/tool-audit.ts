import type { WorkerJobEvent } from "@kiln/protocol";
import { and, eq, inArray, sql } from "drizzle-orm";
import { ToolCallLedger, type ToolCallRecord, toolCallEntry } from "../audit/agent.ts";
import { type AuditEntry, digestOf } from "../audit/record.ts";
import type { Executor } from "../db/client.ts";
import { jobEvents } from "../db/schema-shared.ts";
import type { JobRow } from "./store.ts";

/** Jobs whose open tool calls are followed at once; past it the oldest is forgotten (its digests are read back). */
const MAX_JOBS = 1000;

/**
 * The audit records of a job's tool calls (ADR 0033): a worker reports its agent's events, and each
 * `tool-call-end` stored is recorded in the same transaction, for the person the job runs for. The
 * arguments' digest comes from the call's `tool-call-start`, followed here; one that arrived before this
 * server saw the job (another replica, a reconnect, a forgotten job) is read back from the job's events —
 * one SELECT, only then.
 */
export class JobToolAudit {
  readonly #ledgers = new Map<string, ToolCallLedger>();

  /** The records for these events of `row`'s job, to write with them in `tx`. */
  async entries(tx: Executor, row: JobRow, events: readonly WorkerJobEvent[]): Promise<AuditEntry[]> {
    const calls: ToolCallRecord[] = [];
    let ledger: ToolCallLedger | undefined;
    for (const e of events) {
      if (e.type !== "agent") continue;
      const type = e.event.type;
      if (type !== "tool-call-start" && type !== "tool-call-end" && type !== "approval-resolved") continue;
      ledger ??= this.#ledgerOf(row.id);
      const call = ledger.observe(e.event);
      if (call) calls.push(call);
    }
    if (ledger?.openCount === 0) this.#ledgers.delete(row.id);
    if (calls.length === 0) return [];
    const unseen = calls.filter((c) => c.argsDigest === null).map((c) => c.toolCallId);
    if (unseen.length > 0) {
      const digests = await startedDigests(tx, row.id, unseen);
      for (const c of calls) if (c.argsDigest === null) c.argsDigest = digests.get(c.toolCallId) ?? null;
    }
    return calls.map((call) =>
      toolCallEntry(call, {
        orgId: row.orgId,
        userId: row.requestedBy,
        projectId: row.projectId,
        target: { type: "job", id: row.id },
        source: "job",
        jobId: row.id,
        taskId: row.taskId,
      }),
    );
  }

  /** The job ended: its calls that never ended are not followed any more. */
  forget(jobId: string): void {
    this.#ledgers.delete(jobId);
  }

  #ledgerOf(jobId: string): ToolCallLedger {
    let ledger = this.#ledgers.get(jobId);
    if (!ledger) {
      if (this.#ledgers.size >= MAX_JOBS) {
        const oldest = this.#ledgers.keys().next().value;
        if (oldest !== undefined) this.#ledgers.delete(oldest);
      }
      ledger = new ToolCallLedger();
      this.#ledgers.set(jobId, ledger);
    }
    return ledger;
  }
}

async function startedDigests(
  tx: Executor,
  jobId: string,
  toolCallIds: string[],
): Promise<Map<string, string>> {
  const id = sql<string>`${jobEvents.event}->'event'->>'toolCallId'`;
  const rows = await tx
    .select({ id, input: sql<unknown>`${jobEvents.event}->'event'->'input'` })
    .from(jobEvents)
    .where(
      and(
        eq(jobEvents.jobId, jobId),
        sql`${jobEvents.event}->>'type' = 'agent'`,
        sql`${jobEvents.event}->'event'->>'type' = 'tool-call-start'`,
        inArray(id, toolCallIds),
      ),
    );
  return new Map(rows.map((r) => [r.id, digestOf(r.input ?? null)]));
}
