import { useMemo, useState } from "react";
import { basename, dirname } from "../../lib/paths.ts";
import { useProject } from "../../state/project-context.tsx";
import { cn } from "../../ui/cn.ts";
import { Dialog } from "../../ui/dialog.tsx";
import { FileIcon } from "../../ui/icons.tsx";
import { useEditor } from "../editor/store.ts";
import { fuzzyScore } from "./fuzzy.ts";
import { useFileTree } from "./use-file-tree.ts";

/** Ctrl/Cmd-P: find a file by name and open it. */
export function QuickOpen({ open, onClose }: { open: boolean; onClose: () => void }) {
  const { org, project } = useProject();
  const tree = useFileTree(org, project);
  const [query, setQuery] = useState("");
  const [index, setIndex] = useState(0);

  const results = useMemo(() => {
    const files = (tree.data?.entries ?? []).filter((e) => e.type === "file").map((e) => e.path);
    if (!query.trim()) return files.slice(0, 50);
    return files
      .map((p) => ({ p, s: fuzzyScore(query.trim(), p) }))
      .filter((r) => r.s >= 0)
      .sort((a, b) => b.s - a.s)
      .slice(0, 50)
      .map((r) => r.p);
  }, [tree.data, query]);

  const pick = (path: string | undefined) => {
    if (!path) return;
    useEditor.getState().open(path);
    setQuery("");
    setIndex(0);
    onClose();
  };

  return (
    <Dialog open={open} onClose={onClose} title="Open a file" className="w-[min(36rem,calc(100vw-2rem))]">
      <input
        aria-label="File name"
        role="combobox"
        aria-expanded="true"
        aria-controls="quick-open-list"
        aria-activedescendant={results.length ? `quick-open-${index}` : undefined}
        autoFocus
        value={query}
        placeholder="Type part of a file name"
        onChange={(e) => {
          setQuery(e.target.value);
          setIndex(0);
        }}
        onKeyDown={(e) => {
          if (e.key === "ArrowDown") setIndex((i) => Math.min(i + 1, results.length - 1));
          else if (e.key === "ArrowUp") setIndex((i) => Math.max(i - 1, 0));
          else if (e.key === "Enter") pick(results[index]);
          else return;
          e.preventDefault();
        }}
        className="h-9 w-full rounded-md border border-line bg-surface-0 px-3 text-sm text-neutral-100 outline-none focus:border-accent-500"
      />
      <div
        role="listbox"
        id="quick-open-list"
        aria-label="Matching files"
        className="mt-2 max-h-80 overflow-auto"
      >
        {results.length === 0 && <p className="px-2 py-3 text-xs text-neutral-500">No file matches.</p>}
        {results.map((path, i) => (
          <div
            key={path}
            id={`quick-open-${i}`}
            role="option"
            tabIndex={-1}
            aria-selected={i === index}
            onClick={() => pick(path)}
            onKeyDown={(e) => e.key === "Enter" && pick(path)}
            onMouseMove={() => setIndex(i)}
            className={cn(
              "flex w-full cursor-pointer items-center gap-2 rounded px-2 py-1.5 text-left text-[13px]",
              i === index ? "bg-accent-500/15 text-neutral-50" : "text-neutral-300",
            )}
          >
            <FileIcon className="size-3.5 shrink-0 text-neutral-500" />
            <span className="truncate">{basename(path)}</span>
            <span className="truncate text-xs text-neutral-500">{dirname(path)}</span>
          </div>
        ))}
      </div>
    </Dialog>
  );
}
