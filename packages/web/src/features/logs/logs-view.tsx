import type { LogLine } from "@kiln/protocol";
import { useEffect, useRef } from "react";
import { cn } from "../../ui/cn.ts";
import { EmptyState } from "../../ui/states.tsx";

/** Log lines, following the end unless the reader has scrolled up. */
export function LogsView({ lines }: { lines: LogLine[] }) {
  const box = useRef<HTMLDivElement>(null);
  const follow = useRef(true);

  // biome-ignore lint/correctness/useExhaustiveDependencies: new lines are what moves the view to the end
  useEffect(() => {
    const el = box.current;
    if (el && follow.current) el.scrollTop = el.scrollHeight;
  }, [lines]);

  if (lines.length === 0) {
    return (
      <EmptyState
        className="h-full"
        title="No output yet"
        description="The dev server's output appears here as it starts and runs."
      />
    );
  }
  return (
    <div
      ref={box}
      role="log"
      aria-label="Dev server output"
      onScroll={(e) => {
        const el = e.currentTarget;
        follow.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
      }}
      className="h-full overflow-auto bg-console px-3 py-2 font-mono text-[12px] leading-[1.45]"
    >
      {lines.map((l) => (
        <div
          key={l.seq}
          className={cn(
            "break-all whitespace-pre-wrap",
            l.stream === "stderr"
              ? "text-red-300"
              : l.stream === "system"
                ? "text-sky-300/80"
                : "text-neutral-300",
          )}
        >
          <span className="mr-2 text-neutral-600 select-none">
            {new Date(l.at).toLocaleTimeString([], { hour12: false })}
          </span>
          {l.text}
        </div>
      ))}
    </div>
  );
}
