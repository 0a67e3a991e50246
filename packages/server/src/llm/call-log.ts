import { randomUUID } from "node:crypto";
import type {
  LlmCall,
  LlmCallPage,
  LlmCallSource,
  LlmCallStatus,
  LlmUsageGroupBy,
  LlmUsageReport,
  LlmUsageTotals,
} from "@kiln/protocol";
import { and, desc, eq, gte, lt, or, type SQL, sql } from "drizzle-orm";
import type { FastifyBaseLogger } from "fastify";
import { modelCallEntry } from "../audit/agent.ts";
import { recordAudit } from "../audit/record.ts";
import type { Database } from "../db/client.ts";
import { Outbox } from "../db/outbox.ts";
import { llmCalls } from "../db/schema-tenant.ts";
import { BadRequestError } from "../errors/errors.ts";
import { requirePermission } from "../orgs/roles.ts";
import type { OrgAccess, OrgRow } from "../orgs/service.ts";
import { callOutboxFile, QueuedCall } from "./call-outbox.ts";
import { costOf, type PriceService } from "./prices.ts";

/** One finished model call, as the gateway saw it. */
export interface CallRecord {
  projectId?: string | undefined;
  chatId?: string | undefined;
  messageId?: string | undefined;
  jobId?: string | undefined;
  userId?: string | undefined;
  /** The person a job's call is made for (its requester): audited, not charged (`userId` stays empty). */
  onBehalfOf?: string | undefined;
  source: LlmCallSource;
  provider: string;
  model: string;
  stream: boolean;
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
  tokensEstimated: boolean;
  ttftMs: number | null;
  durationMs: number;
  status: LlmCallStatus;
  errorCode: string | null;
  errorMessage: string | null;
  attempts: number;
  createdAt: Date;
}

type CallRow = typeof llmCalls.$inferSelect;

function toCall(row: CallRow): LlmCall {
  return {
    id: row.id,
    projectId: row.projectId,
    chatId: row.chatId,
    messageId: row.messageId,
    jobId: row.jobId,
    userId: row.userId,
    source: row.source as LlmCallSource,
    provider: row.provider,
    model: row.model,
    stream: row.stream,
    inputTokens: row.inputTokens,
    outputTokens: row.outputTokens,
    cachedInputTokens: row.cachedInputTokens,
    tokensEstimated: row.tokensEstimated,
    ttftMs: row.ttftMs,
    durationMs: row.durationMs,
    costUsd: row.costUsd,
    status: row.status as LlmCallStatus,
    errorCode: row.errorCode,
    errorMessage: row.errorMessage,
    attempts: row.attempts,
    createdAt: row.createdAt.toISOString(),
  };
}

const DAY_MS = 86_400_000;
const MAX_RANGE_DAYS = 366;

/**
 * The `llm_calls` table. Rows are written after a call ends, off the caller's path: `record` returns at
 * once and an outbox (db/outbox.ts) writes the row, waiting out a database outage — these rows are money.
 * `flush` waits until rows recorded so far are written; `close` (at shutdown) drains for a few seconds and
 * leaves the rest in `<dataDir>/outbox/llm-calls.jsonl` for the next start.
 */
export class CallLog {
  readonly #database: Database;
  readonly #prices: PriceService;
  readonly #outbox: Outbox<QueuedCall>;

  constructor(
    database: Database,
    prices: PriceService,
    log: FastifyBaseLogger,
    options: { dataDir: string; capacity?: number; retry?: { firstMs: number; maxMs: number } },
  ) {
    this.#database = database;
    this.#prices = prices;
    this.#outbox = new Outbox<QueuedCall>({
      what: "LLM call rows",
      file: callOutboxFile(options.dataDir),
      write: (schemaName, calls) => this.#write(schemaName, calls),
      groupOf: (call) => call.schemaName,
      parse: (value) => {
        const parsed = QueuedCall.safeParse(value);
        return parsed.success ? parsed.data : undefined;
      },
      log,
      capacity: options.capacity ?? 5_000,
      ...(options.retry ? { retry: options.retry } : {}),
    });
  }

  record(org: OrgRow, call: CallRecord): void {
    // The id is fixed now, so a retry after an ambiguous failure finds the row already there.
    this.#outbox.push({
      ...call,
      id: randomUUID(),
      orgId: org.id,
      schemaName: org.schemaName,
      errorMessage: call.errorMessage?.slice(0, 1000) ?? null,
      createdAt: call.createdAt.toISOString(),
    });
  }

  /** Waits until every row recorded so far is written (or refused by the database). */
  flush(): Promise<void> {
    return this.#outbox.flush();
  }

  /** At shutdown: writes for at most `timeoutMs`, then leaves the rest in the outbox file. */
  close(timeoutMs?: number): Promise<void> {
    return this.#outbox.close(timeoutMs);
  }

  async #write(schemaName: string, calls: QueuedCall[]): Promise<void> {
    await this.#database.tenant(schemaName, async (tx) => {
      const prices = new Map<string, Awaited<ReturnType<PriceService["priceFor"]>>>();
      const values: (typeof llmCalls.$inferInsert)[] = [];
      for (const { orgId: _, schemaName: __, onBehalfOf: ___, ...call } of calls) {
        const key = `${call.provider}/${call.model}`;
        if (!prices.has(key)) prices.set(key, await this.#prices.priceFor(tx, call.provider, call.model));
        const price = prices.get(key);
        values.push({
          ...call,
          projectId: call.projectId ?? null,
          chatId: call.chatId ?? null,
          messageId: call.messageId ?? null,
          jobId: call.jobId ?? null,
          userId: call.userId ?? null,
          createdAt: new Date(call.createdAt),
          costUsd: price ? costOf(price, call) : null,
        });
      }
      const inserted = await tx
        .insert(llmCalls)
        .values(values)
        .onConflictDoNothing({ target: llmCalls.id })
        .returning({ id: llmCalls.id });
      // One audit record per call, with its row (ADR 0033); a row written already (a replay after an
      // ambiguous commit) is not returned, so its call is not recorded twice.
      const fresh = new Set(inserted.map((r) => r.id));
      await recordAudit(tx, ...calls.filter((c) => fresh.has(c.id)).map(modelCallEntry));
    });
  }

  async list(
    access: OrgAccess,
    query: {
      projectId?: string | undefined;
      chatId?: string | undefined;
      limit: number;
      before?: string | undefined;
    },
  ): Promise<LlmCallPage> {
    requirePermission(access.role, "llm.read");
    const rows = await this.#database.tenant(access.org.schemaName, async (tx) => {
      const conditions: SQL[] = [];
      if (query.projectId) conditions.push(eq(llmCalls.projectId, query.projectId));
      if (query.chatId) conditions.push(eq(llmCalls.chatId, query.chatId));
      if (query.before) {
        const [cursor] = await tx
          .select({ createdAt: llmCalls.createdAt, id: llmCalls.id })
          .from(llmCalls)
          .where(eq(llmCalls.id, query.before));
        // An unknown cursor is an empty page, not everything from the start.
        if (!cursor) return [];
        conditions.push(
          or(
            lt(llmCalls.createdAt, cursor.createdAt),
            and(eq(llmCalls.createdAt, cursor.createdAt), lt(llmCalls.id, cursor.id)),
          )!,
        );
      }
      return tx
        .select()
        .from(llmCalls)
        .where(and(...conditions))
        .orderBy(desc(llmCalls.createdAt), desc(llmCalls.id))
        .limit(query.limit + 1);
    });
    const page = rows.slice(0, query.limit);
    return {
      calls: page.map(toCall),
      nextBefore: rows.length > query.limit ? (page.at(-1)?.id ?? null) : null,
    };
  }

  async usage(
    access: OrgAccess,
    query: {
      from?: string | undefined;
      to?: string | undefined;
      groupBy: LlmUsageGroupBy;
      projectId?: string | undefined;
    },
  ): Promise<LlmUsageReport> {
    requirePermission(access.role, "llm.read");
    const to = query.to ? new Date(query.to) : new Date();
    const from = query.from ? new Date(query.from) : new Date(to.getTime() - 30 * DAY_MS);
    if (from.getTime() > to.getTime()) throw new BadRequestError("validation_failed", "`from` is after `to`");
    if (to.getTime() - from.getTime() > MAX_RANGE_DAYS * DAY_MS) {
      throw new BadRequestError("validation_failed", `at most ${MAX_RANGE_DAYS} days per report`);
    }
    const key = {
      day: sql<string>`to_char(${llmCalls.createdAt} AT TIME ZONE 'UTC', 'YYYY-MM-DD')`,
      model: sql<string>`${llmCalls.provider} || '/' || ${llmCalls.model}`,
      project: sql<string | null>`${llmCalls.projectId}::text`,
    }[query.groupBy];
    const totals = {
      calls: sql<number>`count(*)::int`,
      errors: sql<number>`(count(*) FILTER (WHERE ${llmCalls.status} = 'error'))::int`,
      inputTokens: sql<number>`coalesce(sum(${llmCalls.inputTokens}), 0)::bigint`,
      outputTokens: sql<number>`coalesce(sum(${llmCalls.outputTokens}), 0)::bigint`,
      cachedInputTokens: sql<number>`coalesce(sum(${llmCalls.cachedInputTokens}), 0)::bigint`,
      costUsd: sql<number>`coalesce(sum(${llmCalls.costUsd}), 0)::float8`,
      unpricedCalls: sql<number>`(count(*) FILTER (WHERE ${llmCalls.costUsd} IS NULL))::int`,
    };
    const where = and(
      gte(llmCalls.createdAt, from),
      lt(llmCalls.createdAt, to),
      query.projectId ? eq(llmCalls.projectId, query.projectId) : undefined,
    );
    const rows = await this.#database.tenant(access.org.schemaName, (tx) =>
      tx
        .select({ key, ...totals })
        .from(llmCalls)
        .where(where)
        .groupBy(key)
        .orderBy(key),
    );
    const numeric = (r: Record<keyof LlmUsageTotals, unknown>): LlmUsageTotals => ({
      calls: Number(r.calls),
      errors: Number(r.errors),
      inputTokens: Number(r.inputTokens),
      outputTokens: Number(r.outputTokens),
      cachedInputTokens: Number(r.cachedInputTokens),
      costUsd: Number(r.costUsd),
      unpricedCalls: Number(r.unpricedCalls),
    });
    const out = rows.map((r) => ({ key: r.key, ...numeric(r) }));
    const sum = out.reduce(
      (acc, r) => ({
        calls: acc.calls + r.calls,
        errors: acc.errors + r.errors,
        inputTokens: acc.inputTokens + r.inputTokens,
        outputTokens: acc.outputTokens + r.outputTokens,
        cachedInputTokens: acc.cachedInputTokens + r.cachedInputTokens,
        costUsd: acc.costUsd + r.costUsd,
        unpricedCalls: acc.unpricedCalls + r.unpricedCalls,
      }),
      {
        calls: 0,
        errors: 0,
        inputTokens: 0,
        outputTokens: 0,
        cachedInputTokens: 0,
        costUsd: 0,
        unpricedCalls: 0,
      },
    );
    return { from: from.toISOString(), to: to.toISOString(), groupBy: query.groupBy, totals: sum, rows: out };
  }
}
