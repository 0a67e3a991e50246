import type { ReactNode } from "react";
import { cn } from "./cn.ts";

export interface TabItem<T extends string> {
  id: T;
  label: ReactNode;
  badge?: ReactNode;
}

/** A row of tabs (ARIA tablist); the caller renders the active panel. */
export function Tabs<T extends string>({
  tabs,
  active,
  onChange,
  label,
  className,
  trailing,
}: {
  tabs: TabItem<T>[];
  active: T;
  onChange: (id: T) => void;
  label: string;
  className?: string;
  trailing?: ReactNode;
}) {
  return (
    <div className={cn("flex h-9 shrink-0 items-center border-b border-line bg-surface-1 px-1", className)}>
      <div role="tablist" aria-label={label} className="flex h-full items-stretch">
        {tabs.map((t) => (
          <button
            key={t.id}
            type="button"
            role="tab"
            aria-selected={t.id === active}
            onClick={() => onChange(t.id)}
            className={cn(
              "relative flex shrink-0 items-center gap-1.5 whitespace-nowrap px-3 text-xs font-medium transition-colors",
              t.id === active
                ? "text-neutral-100 after:absolute after:inset-x-2 after:bottom-0 after:h-0.5 after:rounded after:bg-accent-500"
                : "text-neutral-500 hover:text-neutral-300",
            )}
          >
            {t.label}
            {t.badge}
          </button>
        ))}
      </div>
      <div className="ml-auto flex items-center gap-0.5">{trailing}</div>
    </div>
  );
}
