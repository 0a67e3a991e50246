import { useNavigate } from "@tanstack/react-router";
import { useEffect, useId, useRef, useState } from "react";
import { cn } from "../../ui/cn.ts";
import { BellIcon } from "../../ui/icons.tsx";
import { useNotifications } from "./use-notifications.ts";

const when = (iso: string) =>
  new Date(iso).toLocaleString(undefined, {
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
  });

/** The bell in the header: the unread count, live; a panel of the newest notifications. */
export function NotificationBell() {
  const { items, unread, reload, markRead, markAllRead } = useNotifications();
  const [open, setOpen] = useState(false);
  const root = useRef<HTMLDivElement>(null);
  const panelId = useId();
  const navigate = useNavigate();

  useEffect(() => {
    if (!open) return;
    const onDown = (e: MouseEvent) => {
      if (!root.current?.contains(e.target as Node)) setOpen(false);
    };
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") setOpen(false);
    };
    document.addEventListener("mousedown", onDown);
    document.addEventListener("keydown", onKey);
    return () => {
      document.removeEventListener("mousedown", onDown);
      document.removeEventListener("keydown", onKey);
    };
  }, [open]);

  const label = unread ? `Notifications, ${unread} unread` : "Notifications";
  return (
    <div ref={root} className="relative">
      <button
        type="button"
        aria-label={label}
        title={label}
        aria-expanded={open}
        aria-controls={panelId}
        onClick={() => {
          if (!open) void reload().catch(() => {});
          setOpen((o) => !o);
        }}
        className="relative inline-flex size-7 items-center justify-center rounded text-neutral-400 hover:bg-tint/8 hover:text-neutral-100"
      >
        <BellIcon className="size-4" />
        {unread > 0 && (
          <span
            data-testid="unread-count"
            className="absolute -top-1 -right-1 min-w-4 rounded-full bg-accent-600 px-1 text-center text-[10px] leading-4 font-semibold text-white"
          >
            {unread > 99 ? "99+" : unread}
          </span>
        )}
      </button>
      {open && (
        <section
          id={panelId}
          aria-label="Notifications"
          className="fixed inset-x-2 top-12 z-50 max-h-[70vh] overflow-y-auto rounded-md border border-line bg-surface-2 shadow-xl sm:absolute sm:inset-x-auto sm:top-auto sm:right-0 sm:mt-1 sm:w-96"
        >
          <header className="flex items-center justify-between border-b border-line px-3 py-2">
            <h2 className="text-[13px] font-medium text-neutral-100">Notifications</h2>
            <button
              type="button"
              disabled={unread === 0}
              onClick={() => void markAllRead()}
              className="text-[12px] text-neutral-400 hover:text-neutral-100 disabled:opacity-40"
            >
              Mark all read
            </button>
          </header>
          {items.length === 0 ? (
            <p className="px-3 py-6 text-center text-[13px] text-neutral-500">Nothing yet.</p>
          ) : (
            <ul>
              {items.map((n) => (
                <li key={n.id}>
                  <button
                    type="button"
                    onClick={() => {
                      setOpen(false);
                      if (!n.readAt) void markRead(n.id).catch(() => {});
                      if (n.link.startsWith("/") && !n.link.startsWith("//")) void navigate({ href: n.link });
                    }}
                    className="flex w-full flex-col gap-0.5 border-b border-line/60 px-3 py-2 text-left hover:bg-tint/6"
                  >
                    <span className="flex items-center gap-2">
                      <span
                        aria-hidden="true"
                        className={cn(
                          "size-1.5 shrink-0 rounded-full",
                          n.readAt ? "bg-transparent" : "bg-accent-500",
                        )}
                      />
                      <span className={cn("text-[13px]", n.readAt ? "text-neutral-400" : "text-neutral-100")}>
                        {n.title}
                      </span>
                      {!n.readAt && <span className="sr-only">(unread)</span>}
                    </span>
                    {n.body && (
                      <span className="line-clamp-2 pl-3.5 text-[12px] text-neutral-500">{n.body}</span>
                    )}
                    <span className="pl-3.5 text-[11px] text-neutral-600">{when(n.createdAt)}</span>
                  </button>
                </li>
              ))}
            </ul>
          )}
        </section>
      )}
    </div>
  );
}
