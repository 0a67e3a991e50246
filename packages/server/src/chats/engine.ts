import type { RunAgentResult, ToolDefinition, Workspace } from "@kiln/agent";
import { INTERRUPTED_RESULT, runAgent, toModelMessages } from "@kiln/agent";
import {
  type AgentEvent,
  ApprovalDecision,
  type ApprovalMode,
  applyEventToParts,
  type MessagePart,
  ZERO_USAGE,
} from "@kiln/protocol";
import type { LanguageModel } from "ai";
import { eq } from "drizzle-orm";
import type { FastifyBaseLogger } from "fastify";
import { z } from "zod";
import type { LimitsConfig } from "../config.ts";
import type { Database } from "../db/client.ts";
import { driverError } from "../db/driver-error.ts";
import { NotifyChannel } from "../db/notify-channel.ts";
import { agentRuns, orgs } from "../db/schema-shared.ts";
import { chatMessages } from "../db/schema-tenant.ts";
import { isDatabaseUnavailable } from "../db/unavailable.ts";
import { assertRunRoom } from "../limits/counts.ts";
import { DeltaCoalescer } from "./delta-coalescer.ts";
import type { ChatRun } from "./run.ts";
import { MAX_UNSAVED_EVENTS, RETRY_MAX_MS as RETRY_MAX_WAIT_MS, RunSaver, RunSavers } from "./run-saver.ts";
import { appendEvents, EVENTS_PAGE, eventsAfter, lastEventSeq, type MessageRow } from "./store.ts";

const FLUSH_MS = 150;
const HEARTBEAT_STALE_MS = 30_000;

/** What a replica asks of the one running a turn (the user's request may land on any of them). */
const ChatSignal = z.discriminatedUnion("t", [
  z.object({ t: z.literal("cancel"), messageId: z.string() }),
  z.object({
    t: z.literal("decide"),
    messageId: z.string(),
    toolCallId: z.string(),
    decision: ApprovalDecision,
  }),
]);
type ChatSignal = z.infer<typeof ChatSignal>;

/** Saves a turn's file changes as a commit; null when nothing changed. */
export interface CheckpointSink {
  checkpoint(
    ctx: { orgId: string; schemaName: string; projectId: string },
    input: { message: string; chatId: string; messageId: string },
  ): Promise<{ sha: string; filesChanged: number } | null>;
}

export interface RunSetup {
  run: ChatRun;
  model: LanguageModel;
  modelRef: string;
  contextWindow: number;
  system: string;
  /** The chat so far (stored messages, oldest first), ending with the new user message. */
  history: Array<{ role: "user" | "assistant"; parts: MessagePart[] }>;
  /** The bytes of the images the history's image parts name (ADR 0041). */
  images?: ReadonlyMap<string, { mediaType: string; data: Uint8Array }>;
  tools: ToolDefinition[];
  workspace: Workspace;
  mode: ApprovalMode;
  /** The agent version the turn runs, named in its `message-start` event. */
  agent?: { id: string; version: number };
  /** The agent's own limit on model calls; the server's (`maxSteps`) still caps it. */
  maxSteps?: number;
  /** The user's words, for the checkpoint's commit message. */
  summary: string;
  /** Called once the loop has stopped (closes the turn's MCP sessions). */
  onEnd?: () => Promise<void>;
}

export interface EngineOptions {
  database: Database;
  log: FastifyBaseLogger;
  /** Identifies this process in `agent_runs` (host + pid + start time). */
  owner: string;
  /** Embedded database: this is the only server, so every run left in the table is dead. */
  embedded: boolean;
  approvalTimeoutMs: number;
  maxSteps: number;
  checkpoints?: CheckpointSink | undefined;
  /** Turns running at once per org and per user, counted in `agent_runs` (every replica's). */
  limits?: LimitsConfig | undefined;
}

/**
 * Executes agent turns: runs the loop, numbers and stores its events (batched, so a stream of tokens is
 * a handful of writes per second), keeps a heartbeat in `agent_runs`, asks for approvals, saves the
 * checkpoint and closes the message. Runs outlive the request that started them.
 */
export class ChatEngine {
  readonly #o: EngineOptions;
  readonly #runs = new Map<string, ChatRun>();
  readonly #starting = new Set<string>();
  readonly #signals: NotifyChannel<ChatSignal>;
  /** Every running turn's writes, batched per tick. */
  readonly #savers: RunSavers;
  #sweeper: NodeJS.Timeout | undefined;
  #closing = false;
  #gaveUp = false;
  /** Since when this replica has reached its database without a failure (undefined: not since the last). */
  #healthySince: number | undefined = Date.now();

  constructor(options: EngineOptions) {
    this.#o = options;
    this.#savers = new RunSavers(options.database, FLUSH_MS);
    this.#signals = new NotifyChannel(options.database, options.log, {
      channel: "kiln_chats",
      schema: ChatSignal,
    });
    this.#signals.on((signal) => {
      const run = this.#runs.get(signal.messageId);
      if (!run) return;
      if (signal.t === "cancel") run.controller.abort();
      else this.#decideHere(run, signal.toolCallId, signal.decision);
    });
  }

  /** Hears cancels and approval decisions sent from other replicas. */
  listen(): Promise<void> {
    return this.#signals.start();
  }

  /**
   * Stops a turn wherever it runs: here at once (resolves when it has stopped), on another replica through
   * the database (resolves at once; the stored message says when it has stopped).
   */
  async cancel(messageId: string): Promise<"here" | "sent"> {
    const run = this.#runs.get(messageId);
    if (!run) {
      this.#signals.publish({ t: "cancel", messageId });
      return "sent";
    }
    run.controller.abort();
    await run.whenFinished();
    return "here";
  }

  /**
   * Answers a waiting approval wherever the turn runs. Here: "decided", or "not-pending" when no such call
   * waits. Elsewhere: "sent" (the stored events show the outcome).
   */
  decide(
    messageId: string,
    toolCallId: string,
    decision: ApprovalDecision,
  ): "decided" | "not-pending" | "sent" {
    const run = this.#runs.get(messageId);
    if (!run) {
      this.#signals.publish({ t: "decide", messageId, toolCallId, decision });
      return "sent";
    }
    return this.#decideHere(run, toolCallId, decision) ? "decided" : "not-pending";
  }

  #decideHere(run: ChatRun, toolCallId: string, decision: ApprovalDecision): boolean {
    const pending = run.approvals.get(toolCallId);
    if (!pending) return false;
    if (decision === "approve-all") {
      run.approveAll = true;
      // Other calls already waiting in this turn are covered too.
      for (const other of [...run.approvals.values()]) if (other !== pending) other.resolve("approve-all");
    }
    pending.resolve(decision);
    return true;
  }

  runForChat(chatId: string): ChatRun | undefined {
    for (const run of this.#runs.values()) if (run.chatId === chatId && !run.finished) return run;
    return undefined;
  }

  runForMessage(messageId: string): ChatRun | undefined {
    return this.#runs.get(messageId);
  }

  /**
   * Registers the run (call inside the transaction that created its message), or refuses it when its org
   * or user already has as many turns running as allowed.
   */
  async register(
    tx: Parameters<Parameters<Database["transaction"]>[0]>[0],
    run: ChatRun,
    userId: string,
  ): Promise<void> {
    if (this.#o.limits) await assertRunRoom(tx, { orgId: run.orgId, userId }, this.#o.limits);
    await tx.insert(agentRuns).values({
      messageId: run.messageId,
      orgId: run.orgId,
      chatId: run.chatId,
      userId,
      owner: this.#o.owner,
    });
    // From here the run is this server's, though it starts only once the caller has built its prompt: the
    // sweeper must not take its row for a dead server's in between (it did, on a loaded machine).
    this.#starting.add(run.messageId);
  }

  /** A registered run that will not start (its transaction failed, or setting it up did). */
  abandon(messageId: string): void {
    this.#starting.delete(messageId);
  }

  start(setup: RunSetup): void {
    this.#starting.delete(setup.run.messageId);
    this.#runs.set(setup.run.messageId, setup.run);
    void this.#execute(setup);
  }

  async #execute(setup: RunSetup): Promise<void> {
    const { run } = setup;
    const saver = new RunSaver(this.#o.database, this.#o.log, run, () => {
      this.#healthySince = undefined;
    });
    let lostDatabase = false;
    this.#savers.add(saver);
    const timer = setInterval(() => {
      // Events that cannot be stored wait in memory, but not without end: past the bound the turn stops.
      if (run.unsavedCount > MAX_UNSAVED_EVENTS && saver.waiting && !lostDatabase) {
        lostDatabase = true;
        run.controller.abort();
      }
    }, FLUSH_MS);
    let held: Extract<AgentEvent, { type: "message-end" }> | undefined;
    let result: RunAgentResult | undefined;
    const mutating = new Set(setup.tools.filter((t) => t.mutates).map((t) => t.name));
    let changedSomething = false;
    const deltas = new DeltaCoalescer((event) => run.push(event));
    try {
      result = await runAgent({
        model: setup.model,
        modelId: setup.modelRef,
        system: setup.system,
        messages: toModelMessages(setup.history, setup.images),
        tools: setup.tools,
        workspace: setup.workspace,
        mode: setup.mode,
        messageId: run.messageId,
        maxSteps: Math.min(setup.maxSteps ?? this.#o.maxSteps, this.#o.maxSteps),
        approvalTimeoutMs: this.#o.approvalTimeoutMs,
        // The gateway retries provider errors itself (and logs each attempt); retrying here would stack.
        maxRetries: 0,
        contextWindow: setup.contextWindow,
        signal: run.controller.signal,
        approve: (request) => this.#approve(run, request),
        onEvent: (event) => {
          if (event.type === "tool-call-start" && mutating.has(event.toolName)) changedSomething = true;
          // The turn ends after its checkpoint is saved; hold the loop's last word until then.
          if (event.type === "message-end") {
            deltas.flush();
            held = event;
          } else if (event.type === "message-start" && setup.agent)
            deltas.add({ ...event, agent: setup.agent });
          else deltas.add(event);
        },
      });
    } catch (err) {
      this.#o.log.error({ err, messageId: run.messageId }, "agent run crashed");
    }
    await setup.onEnd?.().catch((err: unknown) => {
      this.#o.log.warn({ err, messageId: run.messageId }, "closing the turn's MCP sessions failed");
    });
    deltas.flush();
    clearInterval(timer);
    this.#savers.remove(saver);
    const interrupted = this.#closing;
    const end: Extract<AgentEvent, { type: "message-end" }> = interrupted
      ? {
          type: "message-end",
          messageId: run.messageId,
          usage: held?.usage ?? result?.usage ?? ZERO_USAGE,
          status: "interrupted",
          reason: "interrupted",
          detail: "the server stopped during this turn; resume it to continue",
        }
      : lostDatabase
        ? {
            type: "message-end",
            messageId: run.messageId,
            usage: held?.usage ?? result?.usage ?? ZERO_USAGE,
            status: "failed",
            reason: "database_unavailable",
            detail: "Kiln lost its database for too long during this turn; resume it to continue",
          }
        : (held ?? {
            type: "message-end",
            messageId: run.messageId,
            usage: result?.usage ?? ZERO_USAGE,
            status: "failed",
            reason: "internal_error",
            detail: "the agent stopped unexpectedly",
          });
    let checkpointSha: string | null = null;
    // A turn that only read and talked cannot have changed files: skip the commit (a sandboxed git run).
    if (this.#o.checkpoints && changedSomething) {
      try {
        const saved = await this.#o.checkpoints.checkpoint(
          { orgId: run.orgId, schemaName: run.schemaName, projectId: run.projectId },
          { message: setup.summary, chatId: run.chatId, messageId: run.messageId },
        );
        if (saved) {
          checkpointSha = saved.sha;
          run.push({
            type: "checkpoint",
            messageId: run.messageId,
            sha: saved.sha,
            filesChanged: saved.filesChanged,
          });
        }
      } catch (err) {
        this.#o.log.error({ err, messageId: run.messageId }, "saving the checkpoint failed");
        run.push({
          type: "error",
          messageId: run.messageId,
          code: "checkpoint_failed",
          message: "the changes of this turn could not be saved as a checkpoint",
        });
      }
    }
    // Followers get the end only once it is stored with the message's final status (they read it from
    // `since()` when the run finishes): a client that saw message-end and at once reads the chat or sends
    // the next message must not find this turn still running.
    run.record(end);
    // The run stays here (so no sweeper takes it for dead) until its end is stored, however long the
    // database is away; only a stopping server gives up, and its next start marks the turn interrupted.
    const stored = await saver.finish(
      { status: end.status, reason: end.reason, detail: end.detail ?? null, usage: end.usage, checkpointSha },
      () => this.#gaveUp,
    );
    if (!stored) this.#o.log.warn({ messageId: run.messageId }, "the turn's end could not be stored");
    this.#runs.delete(run.messageId);
    run.finish();
  }

  #approve(
    run: ChatRun,
    request: { toolCallId: string; toolName: string; input: unknown },
  ): Promise<ApprovalDecision | "timeout"> {
    if (run.approveAll) return Promise.resolve("approve");
    return new Promise((resolve) => {
      const timer = setTimeout(() => settle("timeout"), this.#o.approvalTimeoutMs);
      const settle = (decision: ApprovalDecision | "timeout") => {
        clearTimeout(timer);
        run.approvals.delete(request.toolCallId);
        resolve(decision);
      };
      run.approvals.set(request.toolCallId, {
        toolCallId: request.toolCallId,
        toolName: request.toolName,
        resolve: settle,
      });
      run.controller.signal.addEventListener("abort", () => settle("reject"), { once: true });
    });
  }

  /**
   * Marks runs whose server is gone as interrupted, so no message stays "running" forever and the user
   * can resume. With an embedded database this process is the only server: every leftover run is dead.
   */
  async recover(): Promise<number> {
    const staleBefore = new Date(Date.now() - HEARTBEAT_STALE_MS);
    const rows = await this.#o.database.db
      .select({
        messageId: agentRuns.messageId,
        orgId: agentRuns.orgId,
        schemaName: orgs.schemaName,
        owner: agentRuns.owner,
        heartbeatAt: agentRuns.heartbeatAt,
      })
      .from(agentRuns)
      .innerJoin(orgs, eq(orgs.id, agentRuns.orgId))
      .catch((err) => {
        if (isDatabaseUnavailable(err)) this.#healthySince = undefined;
        throw err;
      });
    this.#healthySince ??= Date.now();
    // After an outage every heartbeat is stale, though their servers live and are storing their turns
    // now: a foreign run counts as dead only once its heartbeat could have been renewed and was not.
    const sinceOutage = Date.now() - this.#healthySince < HEARTBEAT_STALE_MS;
    let count = 0;
    for (const row of rows) {
      if (this.#runs.has(row.messageId) || this.#starting.has(row.messageId)) continue;
      if (!this.#o.embedded && row.owner !== this.#o.owner && (row.heartbeatAt > staleBefore || sinceOutage))
        continue;
      await this.#o.database.tenant(row.schemaName, async (tx) => {
        const [message] = await tx
          .select()
          .from(chatMessages)
          .where(eq(chatMessages.id, row.messageId))
          .for("update");
        if (message && message.status === "running") await interruptInTx(tx, message);
        await tx.delete(agentRuns).where(eq(agentRuns.messageId, row.messageId));
      });
      count++;
    }
    if (count > 0) this.#o.log.warn({ count }, "agent runs left by a stopped server were marked interrupted");
    return count;
  }

  /** Replicas check for each other's dead runs now and then (embedded: once, at start). */
  startSweeping(intervalMs = 15_000): void {
    if (this.#o.embedded) return;
    this.#sweeper = setInterval(() => {
      this.recover().catch((err) => {
        if (isDatabaseUnavailable(err)) this.#o.log.warn({ error: driverError(err) }, "database unavailable");
        else this.#o.log.error({ err }, "sweeping dead agent runs failed");
      });
    }, intervalMs);
    this.#sweeper.unref();
  }

  /** A project (or org) is being deleted: its runs stop first, so nothing writes into removed files. */
  async forgetProject(_orgId: string, projectId: string): Promise<void> {
    await this.#stopWhere((run) => run.projectId === projectId);
  }

  async forgetOrg(orgId: string): Promise<void> {
    await this.#stopWhere((run) => run.orgId === orgId);
  }

  async #stopWhere(match: (run: ChatRun) => boolean): Promise<void> {
    const runs = [...this.#runs.values()].filter(match);
    for (const run of runs) run.controller.abort();
    await Promise.all(runs.map((r) => r.whenFinished()));
  }

  /** Stops every run on this server; they are stored as interrupted (resumable). */
  async close(timeoutMs = 10_000): Promise<void> {
    this.#closing = true;
    await this.#signals.close();
    if (this.#sweeper) clearInterval(this.#sweeper);
    this.#savers.close();
    const runs = [...this.#runs.values()];
    for (const run of runs) run.controller.abort();
    await Promise.race([
      Promise.all(runs.map((r) => r.whenFinished())),
      new Promise((resolve) => setTimeout(resolve, timeoutMs).unref()),
    ]);
    // Turns still waiting for the database to store their end stop waiting: the database closes next.
    this.#gaveUp = true;
    await Promise.race([
      Promise.all(runs.map((r) => r.whenFinished())),
      new Promise((resolve) => setTimeout(resolve, 3 * RETRY_MAX_WAIT_MS).unref()),
    ]);
  }
}

async function interruptInTx(
  tx: Parameters<Parameters<Database["transaction"]>[0]>[0],
  message: MessageRow,
): Promise<void> {
  // A running turn's parts are stored every few seconds, its events at once: its parts as far as the
  // stored events go are those events folded (a turn's events start at 1, so they hold all of it).
  let parts = message.parts as MessagePart[];
  let page = await eventsAfter(tx, message.id, 0);
  if (page[0]?.seq === 1) {
    parts = [];
    while (page.length > 0) {
      for (const e of page) parts = applyEventToParts(parts, e.event);
      page = page.length < EVENTS_PAGE ? [] : await eventsAfter(tx, message.id, page.at(-1)!.seq);
    }
  }
  // A call that was running when its server died may have done part of its work. Left open, the
  // message-end fold would record it as "not run", and a resumed turn would tell the model so; its
  // result is unknown instead, which the model is told to check (the same words as toModelMessages).
  const events: AgentEvent[] = parts.flatMap((p): AgentEvent[] =>
    p.type === "tool" && p.state === "running"
      ? [
          {
            type: "tool-call-end",
            messageId: message.id,
            toolCallId: p.toolCallId,
            toolName: p.toolName,
            output: INTERRUPTED_RESULT,
            isError: true,
            durationMs: 0,
          },
        ]
      : [],
  );
  const end: Extract<AgentEvent, { type: "message-end" }> = {
    type: "message-end",
    messageId: message.id,
    usage: ZERO_USAGE,
    status: "interrupted",
    reason: "interrupted",
    detail: "the server stopped during this turn; resume it to continue",
  };
  events.push(end);
  let seq = await lastEventSeq(tx, message.id);
  await appendEvents(
    tx,
    message.id,
    events.map((event) => ({ seq: ++seq, event })),
  );
  await tx
    .update(chatMessages)
    .set({
      status: "interrupted",
      reason: "interrupted",
      detail: end.detail,
      parts: events.reduce(applyEventToParts, parts),
      updatedAt: new Date(),
    })
    .where(eq(chatMessages.id, message.id));
}
