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
import type { Database } from "../db/client.ts";
import { llmCalls } from "../db/schema-tenant.ts";
import { BadRequestError } from "../errors/errors.ts";
import { requirePermission } from "../orgs/roles.ts";
import type { OrgAccess, OrgRow } from "../orgs/service.ts";
import { costOf, type PriceService } from "./prices.ts";

/** One finished model call, as the gateway saw it. */
export interface CallRecord {
  projectId?: string | undefined;
  chatId?: string | undefined;
  messageId?: string | undefined;
  jobId?: string | undefined;
  userId?: string | undefined;
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
 * once and the write runs in the background (`flush` waits for those still running, e.g. at shutdown).
 */
export class CallLog {
  readonly #database: Database;
  readonly #prices: PriceService;
  readonly #log: FastifyBaseLogger;
  readonly #pending = new Set<Promise<void>>();

  constructor(database: Database, prices: PriceService, log: FastifyBaseLogger) {
    this.#database = database;
    this.#prices = prices;
    this.#log = log;
  }

  record(org: OrgRow, call: CallRecord): void {
    const write = this.#write(org, call).catch((err: unknown) => {
      // The org may have been deleted mid-call; nothing else can fail here that a caller could fix.
      this.#log.warn({ err, orgId: org.id }, "could not write an LLM call log row");
    });
    this.#pending.add(write);
    void write.finally(() => this.#pending.delete(write));
  }

  /** Waits for every log write started so far. */
  async flush(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }

  async #write(org: OrgRow, call: CallRecord): Promise<void> {
    await this.#database.tenant(org.schemaName, async (tx) => {
      const price = await this.#prices.priceFor(tx, call.provider, call.model);
      await tx.insert(llmCalls).values({
        id: randomUUID(),
        ...call,
        projectId: call.projectId ?? null,
        chatId: call.chatId ?? null,
        messageId: call.messageId ?? null,
        jobId: call.jobId ?? null,
        userId: call.userId ?? null,
        errorMessage: call.errorMessage?.slice(0, 1000) ?? null,
        costUsd: price ? costOf(price, call) : null,
      });
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
