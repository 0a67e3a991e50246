import type {
  AgentEvent,
  Chat,
  ChatMessage,
  MessagePart,
  MessageStatus,
  RunEvent,
  RunStopReason,
  Usage,
} from "@kiln/protocol";
import { BUILTIN_AGENT_ID } from "@kiln/protocol";
import { and, asc, desc, eq, gt, inArray, sql } from "drizzle-orm";
import { BUILTIN_AGENT_VERSION } from "../agents/builtin.ts";
import { type Executor, query } from "../db/client.ts";
import { chatEvents, chatMessages, chats } from "../db/schema-tenant.ts";
import { NotFoundError } from "../errors/errors.ts";
import { looksLikeId } from "../orgs/slug.ts";

/** Row ↔ wire mapping and the queries chats need. Every function runs inside `database.tenant`. */

export type ChatRow = typeof chats.$inferSelect;
export type MessageRow = typeof chatMessages.$inferSelect;

export function toChat(row: ChatRow, runningMessageId: string | null): Chat {
  return {
    id: row.id,
    projectId: row.projectId,
    title: row.title,
    mode: row.mode as Chat["mode"],
    model: row.model,
    approveAll: row.approveAll,
    // A chat from before agents runs the built-in (ADR 0035).
    agentId: row.agentId ?? BUILTIN_AGENT_ID,
    agentVersion: row.agentVersion ?? BUILTIN_AGENT_VERSION,
    runningMessageId,
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export function toMessage(row: MessageRow): ChatMessage {
  return {
    id: row.id,
    chatId: row.chatId,
    role: row.role as ChatMessage["role"],
    parts: row.parts as MessagePart[],
    status: row.status as MessageStatus,
    reason: (row.reason as RunStopReason | null) ?? null,
    detail: row.detail,
    model: row.model,
    usage: (row.usage as Usage | null) ?? null,
    checkpointSha: row.checkpointSha,
    agentId: row.agentId,
    agentVersion: row.agentVersion,
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export async function findChat(tx: Executor, projectId: string, chatId: string): Promise<ChatRow> {
  if (!looksLikeId(chatId)) throw new NotFoundError("chat_not_found", "chat not found");
  const [row] = await tx
    .select()
    .from(chats)
    .where(and(eq(chats.id, chatId.toLowerCase()), eq(chats.projectId, projectId)))
    .limit(1);
  if (!row) throw new NotFoundError("chat_not_found", "chat not found");
  return row;
}

/**
 * Locks the chat row for a new turn: sends to one chat are serialised, so two tabs cannot start two runs at
 * once. One statement: the chat, and the answer still running in it if any (a subquery in the locking
 * select; only the chat row is locked).
 */
export async function lockChatForTurn(
  tx: Executor,
  projectId: string,
  chatId: string,
): Promise<{ chat: ChatRow; runningMessageId: string | null }> {
  if (!looksLikeId(chatId)) throw new NotFoundError("chat_not_found", "chat not found");
  const [row] = await tx
    .select({
      chat: chats,
      // Spelled out: Drizzle renders a column of a one-table select unqualified, and here `id` would be m's.
      runningMessageId: sql<string | null>`(SELECT m.id::text FROM chat_messages m
        WHERE m.chat_id = "chats"."id" AND m.status = 'running' LIMIT 1)`,
    })
    .from(chats)
    .where(and(eq(chats.id, chatId.toLowerCase()), eq(chats.projectId, projectId)))
    .for("update", { of: chats });
  if (!row) throw new NotFoundError("chat_not_found", "chat not found");
  return row;
}

export async function findMessage(tx: Executor, chatId: string, messageId: string): Promise<MessageRow> {
  if (!looksLikeId(messageId)) throw new NotFoundError("message_not_found", "message not found");
  const [row] = await tx
    .select()
    .from(chatMessages)
    .where(and(eq(chatMessages.id, messageId.toLowerCase()), eq(chatMessages.chatId, chatId)))
    .limit(1);
  if (!row) throw new NotFoundError("message_not_found", "message not found");
  return row;
}

export async function runningMessageIds(tx: Executor, chatIds: string[]): Promise<Map<string, string>> {
  if (chatIds.length === 0) return new Map();
  const rows = await tx
    .select({ id: chatMessages.id, chatId: chatMessages.chatId })
    .from(chatMessages)
    .where(and(inArray(chatMessages.chatId, chatIds), eq(chatMessages.status, "running")));
  return new Map(rows.map((r) => [r.chatId, r.id]));
}

export async function listMessages(tx: Executor, chatId: string): Promise<MessageRow[]> {
  return tx
    .select()
    .from(chatMessages)
    .where(eq(chatMessages.chatId, chatId))
    .orderBy(asc(chatMessages.createdAt), asc(chatMessages.role));
}

export async function listChats(tx: Executor, projectId: string): Promise<ChatRow[]> {
  return tx.select().from(chats).where(eq(chats.projectId, projectId)).orderBy(desc(chats.updatedAt));
}

export async function appendEvents(
  tx: Executor,
  messageId: string,
  events: RunEvent[],
  options: { toolEnds?: boolean } = {},
): Promise<StoredToolEnd[]> {
  return insertEvents(
    tx,
    events.map((e) => ({ messageId, seq: e.seq, event: e.event })),
    options,
  );
}

/** A `tool-call-end` this insert stored (not one that was there already). */
export interface StoredToolEnd {
  messageId: string;
  seq: number;
}

/**
 * Stores numbered events of any messages; one already stored is left as it is. All rows go as one JSON
 * parameter: a bound parameter per value cost Drizzle and the driver more than the insert itself on a fast
 * stream, and PostgreSQL takes at most 65,535 parameters in one statement (a 30,000-token answer is more).
 */
export async function insertEvents(
  tx: Executor,
  rows: Array<{ messageId: string; seq: number; event: unknown }>,
  options: { toolEnds?: boolean } = {},
): Promise<StoredToolEnd[]> {
  if (rows.length === 0) return [];
  const json = JSON.stringify(rows.map((r) => ({ m: r.messageId, s: r.seq, e: r.event })));
  const insert = sql`INSERT INTO ${chatEvents} (message_id, seq, event) SELECT (r->>'m')::uuid, (r->>'s')::int, r->'e' FROM jsonb_array_elements(${json}::jsonb) AS r ON CONFLICT DO NOTHING`;
  if (!options.toolEnds) {
    await tx.execute(insert);
    return [];
  }
  // The same statement says which tool results it stored, so a batch written again after an ambiguous
  // commit does not audit them twice.
  return query<StoredToolEnd>(
    tx,
    sql`WITH ins AS (${insert} RETURNING message_id, seq, event->>'type' AS type) SELECT message_id::text AS "messageId", seq FROM ins WHERE type = 'tool-call-end'`,
  );
}

/** The most events `eventsAfter` returns at once. */
export const EVENTS_PAGE = 5000;

export async function eventsAfter(tx: Executor, messageId: string, after: number): Promise<RunEvent[]> {
  const rows = await tx
    .select({ seq: chatEvents.seq, event: chatEvents.event })
    .from(chatEvents)
    .where(and(eq(chatEvents.messageId, messageId), gt(chatEvents.seq, after)))
    .orderBy(asc(chatEvents.seq))
    .limit(EVENTS_PAGE);
  return rows.map((r) => ({ seq: r.seq, event: r.event as AgentEvent }));
}

export async function lastEventSeq(tx: Executor, messageId: string): Promise<number> {
  const [row] = await tx
    .select({ seq: chatEvents.seq })
    .from(chatEvents)
    .where(eq(chatEvents.messageId, messageId))
    .orderBy(desc(chatEvents.seq))
    .limit(1);
  return row?.seq ?? 0;
}
