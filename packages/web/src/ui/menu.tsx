import { type ReactNode, useEffect, useId, useRef, useState } from "react";
import { cn } from "./cn.ts";
import { CheckIcon } from "./icons.tsx";

export interface MenuItem {
  label: string;
  onSelect: () => void;
  icon?: ReactNode;
  danger?: boolean;
  disabled?: boolean;
  hint?: string;
  /** One of a set of choices (a radio item); true for the current one. */
  checked?: boolean;
}

export type MenuEntry = MenuItem | "separator" | { heading: string };

/**
 * A button that opens a list of actions. Arrow keys move, Enter picks, Escape or a click outside closes,
 * and focus returns to the button; Tab closes it and moves on.
 */
export function Menu({
  trigger,
  items,
  align = "start",
  label,
  className,
}: {
  trigger: (props: { onClick: () => void; "aria-expanded": boolean; "aria-haspopup": "menu" }) => ReactNode;
  items: MenuEntry[];
  align?: "start" | "end";
  label: string;
  className?: string;
}) {
  const [open, setOpen] = useState(false);
  const root = useRef<HTMLDivElement>(null);
  const list = useRef<HTMLDivElement>(null);
  const id = useId();

  useEffect(() => {
    if (!open) return;
    const onDown = (e: MouseEvent) => {
      if (!root.current?.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener("mousedown", onDown);
    list.current?.querySelector<HTMLButtonElement>("[role^=menuitem]:not(:disabled)")?.focus();
    return () => document.removeEventListener("mousedown", onDown);
  }, [open]);

  const close = () => {
    setOpen(false);
    root.current?.querySelector<HTMLElement>("[aria-haspopup]")?.focus();
  };

  const onKeyDown = (e: React.KeyboardEvent) => {
    const buttons = [
      ...(list.current?.querySelectorAll<HTMLButtonElement>("[role^=menuitem]:not(:disabled)") ?? []),
    ];
    const at = buttons.indexOf(document.activeElement as HTMLButtonElement);
    if (e.key === "Escape") {
      e.preventDefault();
      close();
    } else if (e.key === "Tab") {
      // From the button, so Tab moves on to what follows it rather than to the top of the page.
      close();
    } else if (e.key === "ArrowDown") {
      e.preventDefault();
      buttons[(at + 1) % buttons.length]?.focus();
    } else if (e.key === "ArrowUp") {
      e.preventDefault();
      buttons[(at - 1 + buttons.length) % buttons.length]?.focus();
    }
  };

  return (
    <div ref={root} className={cn("relative", className)}>
      {trigger({ onClick: () => setOpen((o) => !o), "aria-expanded": open, "aria-haspopup": "menu" })}
      {open && (
        <div
          ref={list}
          id={id}
          role="menu"
          aria-label={label}
          tabIndex={-1}
          onKeyDown={onKeyDown}
          className={cn(
            "absolute z-50 mt-1 min-w-48 rounded-md border border-line bg-surface-2 py-1 shadow-xl",
            align === "end" ? "right-0" : "left-0",
          )}
        >
          {items.map((item, i) => {
            if (item === "separator")
              return <div key={`sep-${labelOf(items[i - 1])}`} className="my-1 border-t border-line" />;
            if ("heading" in item)
              return (
                <div
                  key={`h-${item.heading}`}
                  className="px-3 pt-1.5 pb-1 text-[11px] font-medium text-neutral-500 uppercase"
                >
                  {item.heading}
                </div>
              );
            return (
              <button
                // biome-ignore lint/suspicious/noArrayIndexKey: labels may repeat (chat titles); the list is static while open
                key={`${i}-${item.label}`}
                type="button"
                {...(item.checked === undefined
                  ? { role: "menuitem" }
                  : { role: "menuitemradio", "aria-checked": item.checked })}
                disabled={item.disabled}
                onClick={() => {
                  // Focus goes back to the button first: a dialog the item opens returns it there.
                  close();
                  item.onSelect();
                }}
                className={cn(
                  "flex w-full items-center gap-2 px-3 py-1.5 text-left text-[13px] outline-none hover:bg-tint/8 focus:bg-tint/8 disabled:opacity-40",
                  item.danger ? "text-red-400" : "text-neutral-200",
                )}
              >
                {item.icon && <span className="text-neutral-400">{item.icon}</span>}
                <span className="flex-1 truncate">{item.label}</span>
                {item.hint && <span className="text-xs text-neutral-500">{item.hint}</span>}
                {item.checked && <CheckIcon className="size-3.5 text-accent-400" />}
              </button>
            );
          })}
        </div>
      )}
    </div>
  );
}

function labelOf(entry: MenuEntry | undefined): string {
  if (!entry || entry === "separator") return "";
  return "heading" in entry ? entry.heading : entry.label;
}
