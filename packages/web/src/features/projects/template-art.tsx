import { cn } from "../../ui/cn.ts";

/**
 * A small drawing of what each template starts as, so the choice is visual as well as written. Unknown
 * templates get a neutral card.
 */
export function TemplateArt({ name, className }: { name: string; className?: string }) {
  return (
    <div
      className={cn("relative overflow-hidden rounded-md border border-line bg-surface-0", className)}
      aria-hidden="true"
    >
      {name === "react-vite" ? (
        <div className="flex h-full flex-col items-center justify-center gap-1.5 bg-gradient-to-b from-orange-100/90 to-white p-2">
          <div className="h-1.5 w-10 rounded-full bg-orange-300" />
          <div className="h-2.5 w-20 rounded bg-slate-800" />
          <div className="h-1.5 w-16 rounded bg-slate-400" />
          <div className="mt-1 h-3 w-10 rounded bg-orange-600" />
          <div className="mt-1 flex gap-1">
            <div className="h-4 w-6 rounded-sm border border-slate-200 bg-white" />
            <div className="h-4 w-6 rounded-sm border border-slate-200 bg-white" />
            <div className="h-4 w-6 rounded-sm border border-slate-200 bg-white" />
          </div>
        </div>
      ) : name === "static" ? (
        <div className="flex h-full flex-col gap-1.5 bg-white p-3">
          <div className="h-2.5 w-16 rounded bg-slate-800" />
          <div className="h-1.5 w-full rounded bg-slate-300" />
          <div className="h-1.5 w-5/6 rounded bg-slate-300" />
          <div className="h-1.5 w-4/6 rounded bg-slate-300" />
          <div className="mt-auto h-3 w-10 rounded bg-sky-600" />
        </div>
      ) : name === "node-api" ? (
        <div className="flex h-full flex-col gap-1 bg-[#0d1117] p-2.5 font-mono text-[8px] leading-tight">
          <span className="text-emerald-400">GET /api/health</span>
          <span className="text-neutral-400">{'{ "ok": true }'}</span>
          <span className="mt-1 text-sky-400">POST /api/items</span>
          <span className="text-neutral-400">201 Created</span>
        </div>
      ) : (
        <div className="flex h-full items-center justify-center text-xs text-neutral-600">{name}</div>
      )}
    </div>
  );
}
