import {
  EMAIL_BY_DEFAULT,
  NOTIFICATION_CHANNELS,
  NOTIFICATION_KINDS,
  type NotificationChannel,
  type NotificationKind,
  type NotificationPreference,
} from "@kiln/protocol";
import { and, eq, inArray, sql } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { notificationPreferences } from "../db/schema-shared.ts";

/** Whether `kind` goes to `channel` when the person said nothing: the inbox always, mail for a few kinds. */
export function enabledByDefault(kind: NotificationKind, channel: NotificationChannel): boolean {
  return channel === "in_app" || EMAIL_BY_DEFAULT.includes(kind);
}

/** Each person's choices per kind and channel; a missing row means the default. */
export class NotificationPreferenceStore {
  readonly #database: Database;

  constructor(database: Database) {
    this.#database = database;
  }

  /** Every kind × channel for `userId`, defaults filled in. */
  async list(userId: string): Promise<NotificationPreference[]> {
    const rows = await this.#database.db
      .select()
      .from(notificationPreferences)
      .where(eq(notificationPreferences.userId, userId));
    const set = new Map(rows.map((r) => [`${r.kind} ${r.channel}`, r.enabled]));
    return NOTIFICATION_KINDS.flatMap((kind) =>
      NOTIFICATION_CHANNELS.map((channel) => ({
        kind,
        channel,
        enabled: set.get(`${kind} ${channel}`) ?? enabledByDefault(kind, channel),
      })),
    );
  }

  async update(userId: string, preferences: NotificationPreference[]): Promise<NotificationPreference[]> {
    await this.#database.db
      .insert(notificationPreferences)
      .values(preferences.map((p) => ({ userId, ...p })))
      .onConflictDoUpdate({
        target: [
          notificationPreferences.userId,
          notificationPreferences.kind,
          notificationPreferences.channel,
        ],
        set: { enabled: sql`excluded.enabled` },
      });
    return this.list(userId);
  }

  /** For each of `userIds`, whether `kind` reaches them in the inbox and by mail. */
  async channelsFor(
    userIds: string[],
    kind: NotificationKind,
  ): Promise<Map<string, Record<NotificationChannel, boolean>>> {
    const rows = userIds.length
      ? await this.#database.db
          .select()
          .from(notificationPreferences)
          .where(
            and(inArray(notificationPreferences.userId, userIds), eq(notificationPreferences.kind, kind)),
          )
      : [];
    const out = new Map<string, Record<NotificationChannel, boolean>>();
    for (const id of userIds) {
      out.set(id, { in_app: enabledByDefault(kind, "in_app"), email: enabledByDefault(kind, "email") });
    }
    for (const r of rows) {
      const entry = out.get(r.userId);
      if (entry) entry[r.channel as NotificationChannel] = r.enabled;
    }
    return out;
  }
}
