import type { AdminOrgUsage, AdminUsageQuery, AdminUsageReport, AdminUsageTotals } from "@kiln/protocol";
import { asc, sql } from "drizzle-orm";
import { assertSchemaName, type Executor, query } from "../db/client.ts";
import { orgs } from "../db/schema-shared.ts";
import { BadRequestError } from "../errors/errors.ts";

const DAY_MS = 86_400_000;
/** As an org's own usage report (llm/call-log.ts). */
const MAX_RANGE_DAYS = 366;
/** Orgs per statement: one UNION ALL of this many schemas' `llm_calls`. */
export const USAGE_BATCH = 100;

export const NO_USAGE: AdminUsageTotals = {
  calls: 0,
  inputTokens: 0,
  outputTokens: 0,
  costUsd: 0,
  unpricedCalls: 0,
};

type Org = { id: string; slug: string; name: string; schemaName: string };

/** `from`/`to` of a report: the last 30 days unless given; at most a year. */
export function usageRange(q: AdminUsageQuery): { from: Date; to: Date } {
  const to = q.to ? new Date(q.to) : new Date();
  const from = q.from ? new Date(q.from) : new Date(to.getTime() - 30 * DAY_MS);
  if (from.getTime() > to.getTime()) throw new BadRequestError("validation_failed", "`from` is after `to`");
  if (to.getTime() - from.getTime() > MAX_RANGE_DAYS * DAY_MS) {
    throw new BadRequestError("validation_failed", `at most ${MAX_RANGE_DAYS} days per report`);
  }
  return { from, to };
}

type Row = {
  org_id: string;
  calls: number | string;
  input_tokens: number | string;
  output_tokens: number | string;
  cost_usd: number | string;
  unpriced_calls: number | string;
};

/**
 * Model calls per org between `from` and `to`. Each org's calls live in its own schema (the tenant layer), so
 * one statement reads a batch of schemas at once, a UNION ALL of per-schema aggregates; the schema names are
 * identifiers, never parameters, and pass `assertSchemaName` first. Orgs without a call are left out.
 */
export async function usageOf(
  tx: Executor,
  list: readonly Org[],
  from: Date,
  to: Date,
  batch = USAGE_BATCH,
): Promise<Map<string, AdminUsageTotals>> {
  const out = new Map<string, AdminUsageTotals>();
  for (let i = 0; i < list.length; i += batch) {
    const parts = list.slice(i, i + batch).map(
      (org) => sql`SELECT ${org.id}::uuid AS org_id, count(*)::int AS calls,
        coalesce(sum(input_tokens), 0)::bigint AS input_tokens,
        coalesce(sum(output_tokens), 0)::bigint AS output_tokens,
        coalesce(sum(cost_usd), 0)::float8 AS cost_usd,
        (count(*) FILTER (WHERE cost_usd IS NULL))::int AS unpriced_calls
        FROM ${sql.raw(`"${assertSchemaName(org.schemaName)}".llm_calls`)}
        WHERE created_at >= ${from.toISOString()}::timestamptz AND created_at < ${to.toISOString()}::timestamptz
        HAVING count(*) > 0`,
    );
    const rows = await query<Row>(tx, sql.join(parts, sql` UNION ALL `));
    for (const r of rows) {
      out.set(r.org_id, {
        calls: Number(r.calls),
        inputTokens: Number(r.input_tokens),
        outputTokens: Number(r.output_tokens),
        costUsd: Number(r.cost_usd),
        unpricedCalls: Number(r.unpriced_calls),
      });
    }
  }
  return out;
}

/**
 * The whole instance's usage: totals and one row per org with calls, costliest first. The orgs are read
 * with a key-share lock in the same transaction, so an org deleted meanwhile (its schema dropped) is either
 * waited for or not listed — never a query on a dropped schema.
 */
export async function instanceUsage(tx: Executor, q: AdminUsageQuery): Promise<AdminUsageReport> {
  const { from, to } = usageRange(q);
  const list = await tx
    .select({ id: orgs.id, slug: orgs.slug, name: orgs.name, schemaName: orgs.schemaName })
    .from(orgs)
    .orderBy(asc(orgs.id))
    .for("key share");
  const usage = await usageOf(tx, list, from, to);
  const rows: AdminOrgUsage[] = list
    .filter((o) => usage.has(o.id))
    .map((o) => ({ id: o.id, slug: o.slug, name: o.name, ...usage.get(o.id)! }))
    .sort((a, b) => b.costUsd - a.costUsd || b.calls - a.calls || a.slug.localeCompare(b.slug));
  const totals = rows.reduce(
    (acc, r) => ({
      calls: acc.calls + r.calls,
      inputTokens: acc.inputTokens + r.inputTokens,
      outputTokens: acc.outputTokens + r.outputTokens,
      costUsd: acc.costUsd + r.costUsd,
      unpricedCalls: acc.unpricedCalls + r.unpricedCalls,
    }),
    NO_USAGE,
  );
  return { from: from.toISOString(), to: to.toISOString(), totals, orgs: rows };
}
