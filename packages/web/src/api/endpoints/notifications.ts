import { routes } from "@kiln/protocol";
import { type BodyOf, call, urlOf } from "../call.ts";

const n = routes.notifications;

export const notifications = {
  list: (unread?: boolean) => call(n.list, { query: unread ? { unread: "true" } : {} }),
  /** Server-sent events: your new notifications and the unread count (for EventSource). */
  streamUrl: () => urlOf(n.stream, {}),
  read: (notificationId: string) => call(n.read, { params: { notificationId } }),
  readAll: () => call(n.readAll, {}),
  preferences: () => call(n.preferences, {}),
  updatePreferences: (body: BodyOf<typeof n.updatePreferences>) => call(n.updatePreferences, { body }),
};
