import { cn } from "./cn.ts";

export function Spinner({ className, label = "Loading" }: { className?: string; label?: string }) {
  return (
    <span role="status" aria-label={label} className={cn("inline-flex", className)}>
      <svg
        className="size-4 animate-spin text-neutral-400"
        viewBox="0 0 24 24"
        fill="none"
        aria-hidden="true"
      >
        <circle cx="12" cy="12" r="9" stroke="currentColor" strokeOpacity="0.25" strokeWidth="3" />
        <path d="M21 12a9 9 0 0 0-9-9" stroke="currentColor" strokeWidth="3" strokeLinecap="round" />
      </svg>
    </span>
  );
}

/** Fills its box and centres a spinner, with an optional line of what is being waited for. */
export function LoadingBlock({ label, className }: { label?: string; className?: string }) {
  return (
    <div
      className={cn(
        "flex h-full min-h-24 flex-col items-center justify-center gap-2 text-neutral-500",
        className,
      )}
    >
      <Spinner label={label ?? "Loading"} />
      {label && <span className="text-xs">{label}</span>}
    </div>
  );
}
