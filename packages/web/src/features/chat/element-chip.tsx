import { sourceLine } from "@kiln/protocol";
import { clearPicked, useElementSelection } from "../../state/element-selection.ts";
import { CloseIcon } from "../../ui/icons.tsx";

/**
 * The element picked in the preview, shown above the composer until the next message takes it along:
 * `<button> “Count is 0” · src/App.tsx:14`. Its text is the page's, so it is only ever rendered as text.
 */
export function ElementChip({ projectKey }: { projectKey: string }) {
  const selection = useElementSelection((s) => s.picked[projectKey]);
  if (!selection) return null;
  const where = sourceLine(selection);
  const text = selection.text.length > 40 ? `${selection.text.slice(0, 40)}…` : selection.text;
  return (
    <div className="flex px-2 pt-2">
      <span
        data-testid="element-chip"
        title={`${selection.selector}${selection.source ? `\n${selection.source}` : ""}`}
        className="flex h-6 max-w-full min-w-0 items-center gap-1.5 rounded border border-accent-500/40 bg-accent-500/10 pr-0.5 pl-2 font-mono text-[11px] text-neutral-200"
      >
        <span className="shrink-0 text-accent-300">&lt;{selection.tag}&gt;</span>
        {text && <span className="min-w-0 truncate">“{text}”</span>}
        {where && <span className="shrink-0 text-neutral-400">· {where}</span>}
        <button
          type="button"
          aria-label="Remove the selected element"
          onClick={() => clearPicked(projectKey)}
          className="flex size-5 shrink-0 items-center justify-center rounded text-neutral-400 hover:bg-tint/10 hover:text-neutral-100"
        >
          <CloseIcon className="size-3" />
        </button>
      </span>
    </div>
  );
}
