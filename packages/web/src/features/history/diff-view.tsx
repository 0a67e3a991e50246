import type { CheckpointDiff, DiffFile } from "@kiln/protocol";
import { useState } from "react";
import { cn } from "../../ui/cn.ts";
import { ChevronDown, ChevronRight } from "../../ui/icons.tsx";

const STATUS_LOOK: Record<DiffFile["status"], { label: string; className: string }> = {
  added: { label: "A", className: "text-emerald-400" },
  modified: { label: "M", className: "text-amber-300" },
  deleted: { label: "D", className: "text-red-400" },
  renamed: { label: "R", className: "text-sky-300" },
  copied: { label: "C", className: "text-sky-300" },
  "type-changed": { label: "T", className: "text-neutral-400" },
};

/** What a checkpoint changed: one collapsible section per file with its hunks. */
export function DiffView({ diff }: { diff: CheckpointDiff }) {
  if (diff.files.length === 0) {
    return <p className="py-6 text-center text-xs text-neutral-500">This checkpoint changed no files.</p>;
  }
  return (
    <div className="flex flex-col gap-2">
      {diff.files.map((f) => (
        <FileDiff key={`${f.oldPath ?? ""}:${f.path}`} file={f} defaultOpen={diff.files.length <= 6} />
      ))}
      {diff.truncated && (
        <p className="text-[11px] text-neutral-500">Some changes are left out to keep this view small.</p>
      )}
    </div>
  );
}

function FileDiff({ file, defaultOpen }: { file: DiffFile; defaultOpen: boolean }) {
  const [open, setOpen] = useState(defaultOpen);
  const look = STATUS_LOOK[file.status];
  return (
    <div className="overflow-hidden rounded-md border border-line" data-diff-file={file.path}>
      <button
        type="button"
        aria-expanded={open}
        onClick={() => setOpen((o) => !o)}
        className="flex w-full items-center gap-2 bg-surface-2 px-2.5 py-1.5 text-left text-xs"
      >
        {open ? (
          <ChevronDown className="size-3 text-neutral-500" />
        ) : (
          <ChevronRight className="size-3 text-neutral-500" />
        )}
        <span className={cn("w-3 font-mono font-semibold", look.className)} title={file.status}>
          {look.label}
        </span>
        <span className="min-w-0 flex-1 truncate font-mono text-neutral-200">
          {file.oldPath && file.oldPath !== file.path ? `${file.oldPath} → ${file.path}` : file.path}
        </span>
        {file.binary ? (
          <span className="text-neutral-500">binary</span>
        ) : (
          <span className="shrink-0 font-mono">
            <span className="text-emerald-400">+{file.additions ?? 0}</span>{" "}
            <span className="text-red-400">−{file.deletions ?? 0}</span>
          </span>
        )}
      </button>
      {open && !file.binary && (
        <div className="max-h-[28rem] overflow-auto bg-inset py-1 font-mono text-[11px] leading-[1.45]">
          {file.hunks.map((h) => (
            <div key={h.header}>
              <div className="px-2 text-sky-300/70">{h.header}</div>
              <HunkLines start={{ old: h.oldStart, new: h.newStart }} lines={h.lines} />
            </div>
          ))}
          {file.truncated && <div className="px-2 text-neutral-500">…</div>}
        </div>
      )}
    </div>
  );
}

/** Hunk lines with old and new line numbers in a gutter. */
function HunkLines({ start, lines }: { start: { old: number; new: number }; lines: string[] }) {
  let oldNo = start.old;
  let newNo = start.new;
  return (
    <>
      {lines.map((line, i) => {
        const kind = line[0];
        const left = kind === "+" || kind === "\\" ? "" : String(oldNo++);
        const right = kind === "-" || kind === "\\" ? "" : String(newNo++);
        return (
          <div
            // biome-ignore lint/suspicious/noArrayIndexKey: diff lines have no identity but their position
            key={i}
            className={cn(
              "flex whitespace-pre",
              kind === "+" && "bg-emerald-500/10 text-emerald-200",
              kind === "-" && "bg-red-500/10 text-red-200",
              kind !== "+" && kind !== "-" && "text-neutral-400",
            )}
          >
            <span className="w-9 shrink-0 pr-1 text-right text-neutral-600 select-none">{left}</span>
            <span className="w-9 shrink-0 pr-2 text-right text-neutral-600 select-none">{right}</span>
            <span className="w-4 shrink-0 text-center opacity-70 select-none">
              {kind === " " ? "" : kind}
            </span>
            <span className="pr-3">{line.slice(1) || " "}</span>
          </div>
        );
      })}
    </>
  );
}
