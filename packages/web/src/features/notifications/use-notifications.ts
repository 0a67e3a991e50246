import type { Notification, NotificationStreamEvent } from "@kiln/protocol";
import { useCallback, useEffect, useState } from "react";
import { api } from "../../api/endpoints.ts";

/**
 * The signed-in person's inbox: the newest notifications and the unread count, kept live over the
 * notification stream (reopened with a backoff when it drops).
 */
export function useNotifications() {
  const [items, setItems] = useState<Notification[]>([]);
  const [unread, setUnread] = useState(0);

  const reload = useCallback(async () => {
    const list = await api.notifications.list();
    setItems(list.items);
    setUnread(list.unread);
  }, []);

  useEffect(() => {
    let source: EventSource | undefined;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let failures = 0;
    const onEvent = (message: MessageEvent<string>) => {
      let data: NotificationStreamEvent;
      try {
        data = JSON.parse(message.data) as NotificationStreamEvent;
      } catch {
        return;
      }
      failures = 0;
      setUnread(data.unread);
      if (data.type === "notification") {
        const added = data.notification;
        setItems((list) => [added, ...list.filter((n) => n.id !== added.id)].slice(0, 50));
      }
    };
    const open = () => {
      source = new EventSource(api.notifications.streamUrl(), { withCredentials: true });
      source.addEventListener("notification", onEvent);
      source.addEventListener("unread", onEvent);
      source.addEventListener("error", () => {
        if (stopped) return;
        source?.close();
        failures++;
        timer = setTimeout(() => !stopped && open(), Math.min(30_000, 500 * 2 ** failures));
      });
    };
    open();
    void reload().catch(() => {});
    return () => {
      stopped = true;
      clearTimeout(timer);
      source?.close();
    };
  }, [reload]);

  const markRead = useCallback(async (id: string) => {
    const read = await api.notifications.read(id);
    setItems((list) => list.map((n) => (n.id === id ? read : n)));
  }, []);

  const markAllRead = useCallback(async () => {
    await api.notifications.readAll();
    const now = new Date().toISOString();
    setItems((list) => list.map((n) => (n.readAt ? n : { ...n, readAt: now })));
    setUnread(0);
  }, []);

  return { items, unread, reload, markRead, markAllRead };
}
