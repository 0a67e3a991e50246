import type { DevServerState } from "@kiln/protocol";
import { cn } from "../../ui/cn.ts";

const LOOK: Record<DevServerState | "unknown", { label: string; dot: string; text: string }> = {
  running: { label: "Running", dot: "bg-emerald-400", text: "text-emerald-300" },
  starting: { label: "Starting", dot: "bg-amber-400 animate-pulse", text: "text-amber-300" },
  crashed: { label: "Crashed", dot: "bg-red-400", text: "text-red-300" },
  stopped: { label: "Stopped", dot: "bg-neutral-500", text: "text-neutral-400" },
  hibernated: { label: "Sleeping", dot: "bg-sky-400", text: "text-sky-300" },
  unknown: { label: "…", dot: "bg-neutral-600", text: "text-neutral-500" },
};

export function StatusPill({
  state,
  detail,
}: {
  state: DevServerState | undefined;
  detail?: string | undefined;
}) {
  const look = LOOK[state ?? "unknown"];
  return (
    <span
      title={detail}
      data-state={state ?? "unknown"}
      className={cn(
        "inline-flex h-6 items-center gap-1.5 rounded-full whitespace-nowrap border border-line bg-surface-0 px-2 text-[11px] font-medium",
        look.text,
      )}
    >
      <span className={cn("size-1.5 rounded-full", look.dot)} />
      <span className="max-md:sr-only">Dev server: </span>
      {look.label}
    </span>
  );
}
