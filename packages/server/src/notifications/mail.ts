import { and, asc, eq, inArray, isNotNull, isNull, lte, sql } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { notifications, users } from "../db/schema-shared.ts";
import type { Mailer } from "../mail/mailer.ts";

interface Log {
  warn(obj: object, msg: string): void;
}

/**
 * Mails notifications in batches: a notification's mail waits `delayMs`; once one of a person's is due, all
 * their pending ones leave in one mail. Each is claimed (emailed_at set) in the statement that picks it, so
 * two replicas never mail it twice; those read in the studio meanwhile are claimed and not mailed.
 */
export class NotificationMailer {
  readonly #database: Database;
  readonly #mailer: Mailer;
  readonly #publicUrl: string;
  readonly #log: Log;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Number.POSITIVE_INFINITY;
  #running: Promise<void> | undefined;
  #closed = false;

  constructor(deps: { database: Database; mailer: Mailer; publicUrl: string; log: Log }) {
    this.#database = deps.database;
    this.#mailer = deps.mailer;
    this.#publicUrl = deps.publicUrl.replace(/\/+$/, "");
    this.#log = deps.log;
  }

  /** Arms the timer for `dueAt` unless an earlier one is armed. */
  schedule(dueAt: Date): void {
    if (this.#closed) return;
    const at = dueAt.getTime();
    if (this.#timer && this.#timerAt <= at) return;
    clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        this.#timerAt = Number.POSITIVE_INFINITY;
        void this.flush();
      },
      Math.max(0, at - Date.now()) + 5,
    );
    this.#timer.unref();
  }

  /** Picks up what was due before a restart. */
  async start(): Promise<void> {
    const [next] = await this.#database.db
      .select({ due: notifications.emailDueAt })
      .from(notifications)
      .where(and(isNull(notifications.emailedAt), isNotNull(notifications.emailDueAt)))
      .orderBy(asc(notifications.emailDueAt))
      .limit(1);
    if (next?.due) this.schedule(next.due);
  }

  /** Sends every batch that is due now. */
  flush(): Promise<void> {
    this.#running ??= this.#flush().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.#running;
  }

  async #flush(): Promise<void> {
    const due = this.#database.db
      .selectDistinct({ userId: notifications.userId })
      .from(notifications)
      .where(and(isNull(notifications.emailedAt), lte(notifications.emailDueAt, sql`now()`)));
    const claimed = await this.#database.db
      .update(notifications)
      .set({ emailedAt: sql`now()` })
      .where(
        and(
          isNull(notifications.emailedAt),
          isNotNull(notifications.emailDueAt),
          inArray(notifications.userId, due),
        ),
      )
      .returning();
    const byUser = new Map<string, typeof claimed>();
    for (const n of claimed) {
      if (n.readAt) continue;
      byUser.set(n.userId, [...(byUser.get(n.userId) ?? []), n]);
    }
    for (const [userId, items] of byUser) {
      const [user] = await this.#database.db
        .select({ email: users.email, name: users.name })
        .from(users)
        .where(and(eq(users.id, userId), isNull(users.deletedAt)));
      if (!user) continue;
      items.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
      const subject =
        items.length === 1 ? `Kiln: ${items[0]!.title}` : `Kiln: ${items.length} new notifications`;
      const text = [
        `Hello ${user.name},`,
        "",
        ...items.flatMap((n) => [
          `• ${n.title}`,
          ...(n.body ? [`  ${n.body}`] : []),
          `  ${this.#publicUrl}${n.link}`,
          "",
        ]),
        `Choose what Kiln mails you: ${this.#publicUrl}/account`,
      ].join("\n");
      try {
        await this.#mailer.send({ to: user.email, subject, text });
      } catch (err) {
        this.#log.warn({ err, userId }, "a notification mail was not sent");
      }
    }
    // Whatever became due while this ran.
    await this.start();
  }
}
