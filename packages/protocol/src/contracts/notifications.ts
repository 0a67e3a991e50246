import { z } from "zod";
import {
  Notification,
  NotificationId,
  NotificationList,
  NotificationListQuery,
  NotificationPreferences,
  NotificationStreamEvent,
  UpdateNotificationPreferencesBody,
} from "../notifications.ts";
import { defineRoute } from "./define.ts";

const tags = ["notifications"];
const BASE = "/api/notifications";

/** The signed-in person's notifications (ADR 0032); each person sees only their own. */
export const notifications = {
  list: defineRoute({
    method: "GET",
    path: BASE,
    summary: "Your newest notifications (up to 50) and how many are unread",
    tags,
    query: NotificationListQuery,
    response: NotificationList,
  }),
  stream: defineRoute({
    method: "GET",
    path: `${BASE}/stream`,
    summary: "A live SSE stream of your new notifications and unread count",
    tags,
    stream: "sse",
    response: NotificationStreamEvent,
  }),
  read: defineRoute({
    method: "POST",
    path: `${BASE}/:notificationId/read`,
    summary: "Mark one notification read",
    tags,
    params: z.strictObject({ notificationId: NotificationId }),
    response: Notification,
    errors: ["notification_not_found"],
  }),
  readAll: defineRoute({
    method: "POST",
    path: `${BASE}/read-all`,
    summary: "Mark all your notifications read",
    tags,
    response: z.object({ unread: z.number().int() }),
  }),
  preferences: defineRoute({
    method: "GET",
    path: `${BASE}/preferences`,
    summary: "Your notification preferences, every kind and channel",
    tags,
    response: NotificationPreferences,
  }),
  updatePreferences: defineRoute({
    method: "PUT",
    path: `${BASE}/preferences`,
    summary: "Turn kinds and channels on or off",
    tags,
    body: UpdateNotificationPreferencesBody,
    response: NotificationPreferences,
  }),
};
