import { z } from "zod";
import { Id, Timestamp } from "./common.ts";

/** A person's notifications (ADR 0032): an in-app inbox, live, and batched email, per kind and channel. */

export const NOTIFICATION_KINDS = [
  "task_assigned",
  "job_finished",
  "review_waiting",
  "mention",
  "deployment_finished",
  "member_joined",
] as const;
export const NotificationKind = z.enum(NOTIFICATION_KINDS).describe("What the notification is about");
export type NotificationKind = z.infer<typeof NotificationKind>;

export const NOTIFICATION_CHANNELS = ["in_app", "email"] as const;
export const NotificationChannel = z.enum(NOTIFICATION_CHANNELS);
export type NotificationChannel = z.infer<typeof NotificationChannel>;

/** Kinds mailed unless turned off; everything shows in the inbox unless turned off. */
export const EMAIL_BY_DEFAULT: readonly NotificationKind[] = ["review_waiting", "mention", "task_assigned"];

export const NotificationId = Id;

export const Notification = z
  .object({
    id: Id,
    orgId: Id.nullable(),
    kind: NotificationKind,
    title: z.string(),
    body: z.string(),
    link: z.string().describe("A studio path, starting with /"),
    readAt: Timestamp.nullable(),
    createdAt: Timestamp,
  })
  .meta({ id: "Notification" });
export type Notification = z.infer<typeof Notification>;

export const NotificationList = z.object({
  items: z.array(Notification),
  unread: z.number().int().describe("Unread notifications in all"),
});
export type NotificationList = z.infer<typeof NotificationList>;

export const NotificationListQuery = z.strictObject({
  unread: z.enum(["true", "false"]).optional().describe("true: only unread ones"),
});

export const NotificationPreference = z.strictObject({
  kind: NotificationKind,
  channel: NotificationChannel,
  enabled: z.boolean(),
});
export type NotificationPreference = z.infer<typeof NotificationPreference>;

export const NotificationPreferences = z.array(NotificationPreference);

export const UpdateNotificationPreferencesBody = z.strictObject({
  preferences: z
    .array(NotificationPreference)
    .min(1)
    .max(NOTIFICATION_KINDS.length * 2),
});

/** The live stream's events: each new notification, and the unread count whenever it changes. */
export const NotificationStreamEvent = z.discriminatedUnion("type", [
  z.object({ type: z.literal("notification"), notification: Notification, unread: z.number().int() }),
  z.object({ type: z.literal("unread"), unread: z.number().int() }),
]);
export type NotificationStreamEvent = z.infer<typeof NotificationStreamEvent>;
