import type { ReactNode } from "react";

/** A titled part of the task drawer. */
export function DrawerSection({ title, children }: { title: string; children: ReactNode }) {
  return (
    <section aria-label={title} className="flex flex-col gap-2">
      <h3 className="text-xs font-medium tracking-wide text-neutral-400 uppercase">{title}</h3>
      {children}
    </section>
  );
}
