import { createHash, randomUUID } from "node:crypto";
import type { AuditAction } from "@kiln/protocol";
import { sql } from "drizzle-orm";
import type { Executor } from "../db/client.ts";
import { auditEvents } from "../db/schema-shared.ts";

/** Who did it: a person, an agent for a person, or Kiln itself. */
export type AuditActor =
  | { type: "user"; userId: string }
  | { type: "agent"; userId: string | null }
  | { type: "system" };

export const SYSTEM_ACTOR: AuditActor = { type: "system" };

/** The person behind a request (`OrgAccess` and the like). */
export const userActor = (who: { userId: string }): AuditActor => ({ type: "user", userId: who.userId });

export interface AuditEntry {
  /** Null only for the instance administrator's own actions (`admin.*`), which belong to no org. */
  orgId: string | null;
  action: AuditAction;
  actor: AuditActor;
  projectId?: string | null;
  target?: { type: string; id: string; label?: string | null };
  /** Names, ids, digests, outcomes. Never a secret's value: keys that look like one are refused. */
  data?: Record<string, unknown>;
  ip?: string | null;
}

/** A stored `data` larger than this keeps its digest instead. */
export const AUDIT_DATA_MAX_BYTES = 4096;

/**
 * Keys a value must never be recorded under. A caller that passes one has a bug that would put a secret in
 * the log; it fails loudly (and with it the change: the same transaction) instead.
 */
const SECRET_KEY = /(secret|password|passwd|token|apikey|api_key|privatekey|private_key|credential|^value$)/i;
const ALLOWED_SUFFIX = /(Id|Hint|Name|Digest|Count|Kind|Type|Prefix)$/;
/** A model call's token counts (numbers, not credentials). */
const TOKEN_COUNT = /^(input|output|cachedInput)Tokens$/;

export function assertNoSecrets(data: unknown, at = "data"): void {
  if (Array.isArray(data)) {
    for (const [i, v] of data.entries()) assertNoSecrets(v, `${at}[${i}]`);
    return;
  }
  if (data === null || typeof data !== "object") return;
  for (const [key, value] of Object.entries(data)) {
    // A boolean says whether, never what (`secret: true` of an environment variable).
    if (
      SECRET_KEY.test(key) &&
      !ALLOWED_SUFFIX.test(key) &&
      !TOKEN_COUNT.test(key) &&
      typeof value !== "boolean"
    ) {
      throw new Error(`audit ${at}.${key}: a key that may hold a secret is never recorded`);
    }
    assertNoSecrets(value, `${at}.${key}`);
  }
}

/** sha256 of a value's JSON with sorted keys: the same arguments give the same digest. */
export function digestOf(value: unknown): string {
  return `sha256:${createHash("sha256").update(canonicalJson(value)).digest("hex")}`;
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

function boundedData(data: Record<string, unknown>): Record<string, unknown> {
  const json = JSON.stringify(data);
  if (Buffer.byteLength(json) <= AUDIT_DATA_MAX_BYTES) return data;
  return { truncated: true, bytes: Buffer.byteLength(json), dataDigest: digestOf(data) };
}

/**
 * Records what happened, in `tx`: the transaction that makes the change, so the record and the change commit
 * or fail together. Works in a shared transaction and in a tenant one (the table is in the shared layer).
 * The actor's email is read as it is now and kept, so the record still names them after they are gone.
 */
export async function recordAudit(tx: Executor, ...entries: AuditEntry[]): Promise<void> {
  if (entries.length === 0) return;
  const values = entries.map((e) => {
    const data = e.data ?? {};
    assertNoSecrets(data);
    const userId = e.actor.type === "system" ? null : e.actor.userId;
    return {
      id: randomUUID(),
      orgId: e.orgId,
      action: e.action,
      actorType: e.actor.type,
      actorUserId: userId,
      actorEmail: userId ? sql`(SELECT email FROM public.users WHERE id = ${userId})` : null,
      projectId: e.projectId ?? null,
      targetType: e.target?.type ?? null,
      targetId: e.target?.id ?? null,
      targetLabel: e.target?.label ?? null,
      data: boundedData(data),
      ip: e.ip ?? null,
    };
  });
  await tx.insert(auditEvents).values(values);
}
