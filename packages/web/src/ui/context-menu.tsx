import { useEffect, useRef } from "react";
import { cn } from "./cn.ts";
import type { MenuEntry } from "./menu.tsx";

/** A menu at the pointer (right-click). Escape, a click elsewhere, scrolling or picking an item closes it. */
export function ContextMenu({
  at,
  items,
  onClose,
  label,
}: {
  at: { x: number; y: number };
  items: MenuEntry[];
  onClose: () => void;
  label: string;
}) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const close = (e: Event) => {
      if (e.type === "mousedown" && ref.current?.contains(e.target as Node)) return;
      onClose();
    };
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") onClose();
    };
    document.addEventListener("mousedown", close);
    document.addEventListener("scroll", close, true);
    window.addEventListener("blur", close);
    document.addEventListener("keydown", onKey);
    ref.current?.querySelector<HTMLButtonElement>("[role=menuitem]")?.focus();
    return () => {
      document.removeEventListener("mousedown", close);
      document.removeEventListener("scroll", close, true);
      window.removeEventListener("blur", close);
      document.removeEventListener("keydown", onKey);
    };
  }, [onClose]);

  // Keep the menu inside the window.
  const x = Math.min(at.x, window.innerWidth - 200);
  const y = Math.min(at.y, window.innerHeight - items.length * 30 - 16);

  return (
    <div
      ref={ref}
      role="menu"
      aria-label={label}
      style={{ left: x, top: y }}
      className="fixed z-[90] min-w-44 rounded-md border border-line bg-surface-2 py-1 shadow-xl"
      onKeyDown={(e) => {
        const buttons = [
          ...(ref.current?.querySelectorAll<HTMLButtonElement>("[role=menuitem]:not(:disabled)") ?? []),
        ];
        const at = buttons.indexOf(document.activeElement as HTMLButtonElement);
        if (e.key === "ArrowDown") buttons[(at + 1) % buttons.length]?.focus();
        if (e.key === "ArrowUp") buttons[(at - 1 + buttons.length) % buttons.length]?.focus();
      }}
    >
      {items.map((item, i) =>
        item === "separator" ? (
          <div key={`sep-${labelOf(items[i - 1])}`} className="my-1 border-t border-line" />
        ) : "heading" in item ? (
          <div key={item.heading} className="truncate px-3 pt-1 pb-1 text-[11px] text-neutral-500">
            {item.heading}
          </div>
        ) : (
          <button
            key={item.label}
            type="button"
            role="menuitem"
            disabled={item.disabled}
            onClick={() => {
              onClose();
              item.onSelect();
            }}
            className={cn(
              "flex w-full items-center gap-2 px-3 py-1.5 text-left text-[13px] outline-none hover:bg-tint/8 focus:bg-tint/8 disabled:opacity-40",
              item.danger ? "text-red-400" : "text-neutral-200",
            )}
          >
            {item.icon && <span className="text-neutral-400">{item.icon}</span>}
            <span className="flex-1">{item.label}</span>
            {item.hint && <span className="text-xs text-neutral-500">{item.hint}</span>}
          </button>
        ),
      )}
    </div>
  );
}

function labelOf(entry: MenuEntry | undefined): string {
  if (!entry || entry === "separator") return "";
  return "heading" in entry ? entry.heading : entry.label;
}
