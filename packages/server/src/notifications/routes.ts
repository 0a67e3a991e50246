import { type NotificationStreamEvent, routes } from "@kiln/protocol";
import { KilnError } from "../errors/errors.ts";
import { type EventStreams, wantsStream } from "../http/event-stream.ts";
import { principalOf } from "../http/principal.ts";
import type { OrgRouter } from "../orgs/router.ts";
import type { NotificationService } from "./service.ts";

/** The signed-in person's own notifications; nothing here takes another person's id. */
export function notificationRoutes(
  router: OrgRouter,
  deps: { notifications: NotificationService; streams: EventStreams },
): void {
  const { notifications, streams } = deps;
  const c = routes.notifications;
  const me = (request: Parameters<typeof principalOf>[0]) => principalOf(request).userId;

  router.handle(c.list, async (request) => notifications.list(me(request), request.query.unread === "true"));
  router.handle(c.read, async (request) => notifications.read(me(request), request.params.notificationId));
  router.handle(c.readAll, async (request) => notifications.readAll(me(request)));
  router.handle(c.preferences, async (request) => notifications.preferences.list(me(request)));
  router.handle(c.updatePreferences, async (request) =>
    notifications.preferences.update(me(request), request.body.preferences),
  );
  router.handle(c.stream, async (request, reply) => {
    if (!wantsStream(request))
      throw new KilnError("not_acceptable", "this is a stream: ask with Accept: text/event-stream");
    const userId = me(request);
    let id = 0;
    return streams.framed<NotificationStreamEvent>(
      request,
      reply,
      (emit, signal) => notifications.follow(userId, emit, signal),
      (e) => ({ id: ++id, event: e.type, data: e }),
    );
  });
}
