import type { AuditEvent, AuditFilterQuery, AuditList, AuditListQuery, Role } from "@kiln/protocol";
import { and, asc, desc, eq, gt, gte, lt, lte, type SQL, sql } from "drizzle-orm";
import type { Database, Executor } from "../db/client.ts";
import { auditEvents } from "../db/schema-shared.ts";
import { requirePermission } from "../http/permission.ts";

/** The reader: an org's member (`OrgAccess` fits), whose role must allow `audit.read`. */
export interface AuditReader {
  org: { id: string; slug: string };
  role: Role;
}

type Row = typeof auditEvents.$inferSelect;

const PAGE_DEFAULT = 50;

/** One page of the rows `where` picks, newest first, before `query.before` (a `seq`). */
export async function auditPage(
  ex: Executor,
  where: SQL | undefined,
  query: { limit?: number | undefined; before?: number | undefined },
): Promise<AuditList> {
  const limit = query.limit ?? PAGE_DEFAULT;
  const rows = await ex
    .select()
    .from(auditEvents)
    .where(and(where, query.before === undefined ? undefined : lt(auditEvents.seq, query.before)))
    .orderBy(desc(auditEvents.seq))
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  return {
    events: page.map(toAuditEvent),
    nextBefore: rows.length > limit ? page[page.length - 1]!.seq : null,
  };
}
/** Rows read at a time by an export (it streams; memory stays flat whatever the log's size). */
const EXPORT_BATCH = 500;

export function toAuditEvent(r: Row): AuditEvent {
  return {
    id: r.id,
    seq: r.seq,
    at: r.at.toISOString(),
    action: r.action as AuditEvent["action"],
    actor: {
      type: r.actorType as AuditEvent["actor"]["type"],
      userId: r.actorUserId,
      email: r.actorEmail,
    },
    projectId: r.projectId,
    target: r.targetType && r.targetId ? { type: r.targetType, id: r.targetId, label: r.targetLabel } : null,
    data: r.data,
    ip: r.ip,
  };
}

/** Reads an org's audit log; writing is `recordAudit`, in the transaction of the change. */
export class AuditLog {
  readonly #database: Database;

  constructor(database: Database) {
    this.#database = database;
  }

  async list(access: AuditReader, query: AuditListQuery): Promise<AuditList> {
    requirePermission(access.role, "audit.read");
    return auditPage(this.#database.db, this.#filter(access.org.id, query), query);
  }

  /** The filtered log, oldest first, read a batch at a time. */
  async *export(access: AuditReader, query: AuditFilterQuery): AsyncGenerator<AuditEvent> {
    requirePermission(access.role, "audit.read");
    // Up to the newest row when the export began: rows recorded meanwhile wait for the next export.
    const [top] = await this.#database.db
      .select({ seq: sql<number>`coalesce(max(${auditEvents.seq}), 0)`.mapWith(Number) })
      .from(auditEvents)
      .where(eq(auditEvents.orgId, access.org.id));
    const last = top?.seq ?? 0;
    let after = 0;
    for (;;) {
      const rows = await this.#database.db
        .select()
        .from(auditEvents)
        .where(
          and(this.#filter(access.org.id, query), gt(auditEvents.seq, after), lte(auditEvents.seq, last)),
        )
        .orderBy(asc(auditEvents.seq))
        .limit(EXPORT_BATCH);
      for (const r of rows) yield toAuditEvent(r);
      if (rows.length < EXPORT_BATCH) return;
      after = rows[rows.length - 1]!.seq;
    }
  }

  /** Removes records older than `maxAgeMs` (retention); the only delete the table allows. */
  async prune(maxAgeMs: number): Promise<number> {
    const before = new Date(Date.now() - maxAgeMs);
    return this.#database.transaction(async (tx) => {
      await tx.execute(sql`SELECT set_config('kiln.audit_prune', 'on', true)`);
      const gone = await tx
        .delete(auditEvents)
        .where(lt(auditEvents.at, before))
        .returning({ seq: auditEvents.seq });
      return gone.length;
    });
  }

  #filter(orgId: string, q: AuditFilterQuery): SQL | undefined {
    const action = q.action
      ? q.action.includes(".")
        ? eq(auditEvents.action, q.action)
        : sql`split_part(${auditEvents.action}, '.', 1) = ${q.action}`
      : undefined;
    return and(
      eq(auditEvents.orgId, orgId),
      action,
      q.actor ? eq(auditEvents.actorUserId, q.actor) : undefined,
      q.project ? eq(auditEvents.projectId, q.project) : undefined,
      q.since ? gte(auditEvents.at, new Date(q.since)) : undefined,
      q.until ? lt(auditEvents.at, new Date(q.until)) : undefined,
    );
  }
}

/** One CSV cell: quoted when needed, and never read as a formula by a spreadsheet. */
export function csvCell(value: string | number | null): string {
  if (value === null) return "";
  let s = String(value);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export const AUDIT_CSV_HEADER = [
  "seq",
  "id",
  "at",
  "action",
  "actor_type",
  "actor_user_id",
  "actor_email",
  "project_id",
  "target_type",
  "target_id",
  "target_label",
  "ip",
  "data",
];

export function csvLine(e: AuditEvent): string {
  return `${[
    e.seq,
    e.id,
    e.at,
    e.action,
    e.actor.type,
    e.actor.userId,
    e.actor.email,
    e.projectId,
    e.target?.type ?? null,
    e.target?.id ?? null,
    e.target?.label ?? null,
    e.ip,
    JSON.stringify(e.data),
  ]
    .map(csvCell)
    .join(",")}\r\n`;
}
