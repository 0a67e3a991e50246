import {
  type AgentEvent,
  type ApprovalDecision,
  applyEventToParts,
  type MessagePart,
  type RunEvent,
} from "@kiln/protocol";
import { ToolCallLedger, type ToolCallRecord } from "../audit/agent.ts";

export interface PendingApproval {
  toolCallId: string;
  toolName: string;
  resolve(decision: ApprovalDecision | "timeout"): void;
}

/**
 * One assistant turn in progress on this server: its events in order (numbered from 1, the SSE ids), the
 * parts they fold into, the listeners following it live, the approvals it waits on, and the switch that
 * cancels it. Persisting is the engine's job (`RunSaver`), which drains `unsaved()` on a timer.
 */
export class ChatRun {
  readonly orgId: string;
  readonly schemaName: string;
  readonly projectId: string;
  readonly chatId: string;
  readonly messageId: string;
  /** The person who sent (or resumed) the turn: the agent acts for them. */
  readonly userId: string | null;
  readonly controller = new AbortController();
  readonly approvals = new Map<string, PendingApproval>();
  /** Set by approve-all: the rest of this turn (and the chat, in the DB) runs without asking. */
  approveAll: boolean;
  parts: MessagePart[] = [];
  finished = false;
  #events: RunEvent[] = [];
  #savedThrough = 0;
  /** Events after this one were recorded but not yet shown: `since()` holds them back until the finish. */
  #shownThrough = 0;
  #listeners = new Set<(event: RunEvent) => void>();
  readonly #ledger = new ToolCallLedger();
  /** What to audit for the tool calls that ended, by the seq of their `tool-call-end`, until it is stored. */
  readonly #toolCalls = new Map<number, ToolCallRecord>();
  #finishedWaiters: Array<() => void> = [];

  constructor(init: {
    orgId: string;
    schemaName: string;
    projectId: string;
    chatId: string;
    messageId: string;
    userId?: string | null;
    approveAll: boolean;
    /** Events already stored for this message (a resumed run continues their numbering). */
    startSeq?: number;
    parts?: MessagePart[];
  }) {
    this.orgId = init.orgId;
    this.schemaName = init.schemaName;
    this.projectId = init.projectId;
    this.chatId = init.chatId;
    this.messageId = init.messageId;
    this.userId = init.userId ?? null;
    this.approveAll = init.approveAll;
    this.parts = init.parts ?? [];
    this.#savedThrough = init.startSeq ?? 0;
    this.#seq = init.startSeq ?? 0;
    this.#shownThrough = this.#seq;
  }

  #seq: number;

  get lastSeq(): number {
    return this.#seq;
  }

  push(event: AgentEvent): RunEvent {
    const stored = this.record(event);
    this.#shownThrough = stored.seq;
    for (const listener of this.#listeners) listener(stored);
    return stored;
  }

  /** Numbers and keeps an event without telling listeners; followers read it from `since()` at the finish. */
  record(event: AgentEvent): RunEvent {
    const stored: RunEvent = { seq: ++this.#seq, event };
    this.#events.push(stored);
    this.parts = applyEventToParts(this.parts, event);
    const call = this.#ledger.observe(event);
    if (call) this.#toolCalls.set(stored.seq, call);
    return stored;
  }

  /** Events after `seq` that this process holds and may show (all of them once the run has finished). */
  since(seq: number): RunEvent[] {
    const through = this.finished ? this.#seq : this.#shownThrough;
    return this.#slice(seq, through);
  }

  /** Events not yet written to the database; marks them written (the caller retries on failure). */
  unsaved(): RunEvent[] {
    const out = this.#slice(this.#savedThrough, this.#seq);
    this.#savedThrough = this.#seq;
    return out;
  }

  /** Held events numbered after `after` up to `through` (they are held in order, without gaps). */
  #slice(after: number, through: number): RunEvent[] {
    const first = this.#events[0]?.seq;
    if (first === undefined || through <= after) return [];
    return this.#events.slice(Math.max(0, after + 1 - first), Math.max(0, through + 1 - first));
  }

  /** How many recorded events are not in the database yet. */
  get unsavedCount(): number {
    return this.#seq - this.#savedThrough;
  }

  /** The first event this process holds; replays from before it need the stored events. */
  get firstHeldSeq(): number {
    return this.#events[0]?.seq ?? this.#seq + 1;
  }

  /** The audit record of the tool call whose `tool-call-end` has this seq, until `toolCallsStored`. */
  toolCall(seq: number): ToolCallRecord | undefined {
    return this.#toolCalls.get(seq);
  }

  /** How many ended tool calls wait to be stored with their audit records. */
  get heldToolCalls(): number {
    return this.#toolCalls.size;
  }

  /** These events are stored (with their audit records): their records are not held any more. */
  toolCallsStored(events: readonly RunEvent[]): void {
    if (this.#toolCalls.size === 0) return;
    for (const e of events) this.#toolCalls.delete(e.seq);
  }

  markUnsaved(fromSeq: number): void {
    this.#savedThrough = Math.min(this.#savedThrough, fromSeq - 1);
  }

  subscribe(listener: (event: RunEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  finish(): void {
    this.finished = true;
    for (const pending of this.approvals.values()) pending.resolve("reject");
    this.approvals.clear();
    for (const w of this.#finishedWaiters.splice(0)) w();
    this.#listeners.clear();
  }

  whenFinished(): Promise<void> {
    if (this.finished) return Promise.resolve();
    return new Promise((resolve) => this.#finishedWaiters.push(resolve));
  }
}
