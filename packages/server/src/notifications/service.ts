import { randomUUID } from "node:crypto";
import type { Notification, NotificationKind, NotificationStreamEvent } from "@kiln/protocol";
import { and, count, desc, eq, inArray, isNull } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { notifications, users } from "../db/schema-shared.ts";
import { NotFoundError } from "../errors/errors.ts";
import type { NotificationPreferenceStore } from "./preferences.ts";

export interface NotifyInput {
  orgId: string | null;
  title: string;
  body: string;
  /** A studio path (starts with `/`). */
  link: string;
  /** Who caused it: never told about their own action. */
  actorId?: string | null;
}

type Row = typeof notifications.$inferSelect;
type Listener = (event: NotificationStreamEvent) => void;

const PAGE = 50;
const TITLE_MAX = 200;
/** A title is one line (it becomes a mail's subject): control characters become spaces. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
const oneLine = (text: string) => text.replace(/[\u0000-\u001f\u007f]+/g, " ");
const BODY_MAX = 2000;

const toNotification = (r: Row): Notification => ({
  id: r.id,
  orgId: r.orgId,
  kind: r.kind as NotificationKind,
  title: r.title,
  body: r.body,
  link: r.link,
  readAt: r.readAt?.toISOString() ?? null,
  createdAt: r.createdAt.toISOString(),
});

/**
 * A person's notifications (ADR 0032): stored per user, pushed live to their open streams in this process,
 * and queued for a batched mail (notifications/mail.ts) when they want mail for the kind.
 */
export class NotificationService {
  readonly #database: Database;
  readonly #preferences: NotificationPreferenceStore;
  readonly #emailDelayMs: number;
  readonly #listeners = new Map<string, Set<Listener>>();
  /** Told when a mail is queued, with when it is due (the batcher arms its timer). */
  onEmailQueued: (dueAt: Date) => void = () => {};

  constructor(deps: { database: Database; preferences: NotificationPreferenceStore; emailDelayMs: number }) {
    this.#database = deps.database;
    this.#preferences = deps.preferences;
    this.#emailDelayMs = deps.emailDelayMs;
  }

  get preferences(): NotificationPreferenceStore {
    return this.#preferences;
  }

  /** Tells each of `userIds` (but the actor) about something, on the channels they keep on for `kind`. */
  async notify(userIds: Iterable<string>, kind: NotificationKind, input: NotifyInput): Promise<void> {
    const wanted = [...new Set(userIds)].filter((id) => id !== input.actorId);
    if (wanted.length === 0) return;
    // Only people who still have an account.
    const live = await this.#database.db
      .select({ id: users.id })
      .from(users)
      .where(and(inArray(users.id, wanted), isNull(users.deletedAt)));
    const channels = await this.#preferences.channelsFor(
      live.map((u) => u.id),
      kind,
    );
    const now = new Date();
    const dueAt = new Date(now.getTime() + this.#emailDelayMs);
    const values = [...channels]
      .filter(([, c]) => c.in_app || c.email)
      .map(([userId, c]) => ({
        id: randomUUID(),
        userId,
        orgId: input.orgId,
        kind,
        title: oneLine(input.title).slice(0, TITLE_MAX),
        body: input.body.slice(0, BODY_MAX),
        link: input.link,
        inApp: c.in_app,
        createdAt: now,
        emailDueAt: c.email ? dueAt : null,
      }));
    if (values.length === 0) return;
    const rows = await this.#database.db.insert(notifications).values(values).returning();
    for (const row of rows) {
      if (!row.inApp) continue;
      const listeners = this.#listeners.get(row.userId);
      if (!listeners?.size) continue;
      const unread = await this.unreadCount(row.userId);
      for (const l of listeners) l({ type: "notification", notification: toNotification(row), unread });
    }
    if (values.some((v) => v.emailDueAt)) this.onEmailQueued(dueAt);
  }

  async list(userId: string, unreadOnly: boolean): Promise<{ items: Notification[]; unread: number }> {
    const rows = await this.#database.db
      .select()
      .from(notifications)
      .where(
        and(
          eq(notifications.userId, userId),
          eq(notifications.inApp, true),
          unreadOnly ? isNull(notifications.readAt) : undefined,
        ),
      )
      .orderBy(desc(notifications.createdAt), desc(notifications.id))
      .limit(PAGE);
    return { items: rows.map(toNotification), unread: await this.unreadCount(userId) };
  }

  async unreadCount(userId: string): Promise<number> {
    const [row] = await this.#database.db
      .select({ n: count() })
      .from(notifications)
      .where(
        and(eq(notifications.userId, userId), eq(notifications.inApp, true), isNull(notifications.readAt)),
      );
    return Number(row?.n ?? 0);
  }

  /** Someone else's id answers like a missing one. */
  async read(userId: string, id: string): Promise<Notification> {
    const [row] = await this.#database.db
      .select()
      .from(notifications)
      .where(and(eq(notifications.id, id), eq(notifications.userId, userId), eq(notifications.inApp, true)));
    if (!row) throw new NotFoundError("notification_not_found", "notification not found");
    if (row.readAt) return toNotification(row);
    const [updated] = await this.#database.db
      .update(notifications)
      .set({ readAt: new Date() })
      .where(eq(notifications.id, id))
      .returning();
    await this.#tellUnread(userId);
    return toNotification(updated!);
  }

  async readAll(userId: string): Promise<{ unread: number }> {
    await this.#database.db
      .update(notifications)
      .set({ readAt: new Date() })
      .where(
        and(eq(notifications.userId, userId), eq(notifications.inApp, true), isNull(notifications.readAt)),
      );
    await this.#tellUnread(userId);
    return { unread: 0 };
  }

  /**
   * Sends `emit` the unread count now, then each new notification and count change until `signal` aborts.
   * Live within this process (see ADR 0032 on replicas).
   */
  async follow(userId: string, emit: Listener, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return;
    const listeners = this.#listeners.get(userId) ?? new Set<Listener>();
    this.#listeners.set(userId, listeners);
    listeners.add(emit);
    try {
      emit({ type: "unread", unread: await this.unreadCount(userId) });
      await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
    } finally {
      listeners.delete(emit);
      if (listeners.size === 0) this.#listeners.delete(userId);
    }
  }

  async #tellUnread(userId: string): Promise<void> {
    const listeners = this.#listeners.get(userId);
    if (!listeners?.size) return;
    const unread = await this.unreadCount(userId);
    for (const l of listeners) l({ type: "unread", unread });
  }
}
