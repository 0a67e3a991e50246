import { lazy, Suspense, useEffect } from "react";
import { basename, languageOf } from "../../lib/paths.ts";
import { useProject } from "../../state/project-context.tsx";
import { Button } from "../../ui/button.tsx";
import { cn } from "../../ui/cn.ts";
import { CloseIcon, FileIcon } from "../../ui/icons.tsx";
import { LoadingBlock } from "../../ui/spinner.tsx";
import { EmptyState, ErrorState } from "../../ui/states.tsx";
import { acceptTheirs, saveFile } from "./file-sync.ts";
import { isDirty, type OpenFile, useEditor } from "./store.ts";

// Monaco is megabytes: it loads when the first file is opened, never with the page.
let editorModule: typeof import("./code-editor.tsx") | undefined;
const CodeEditor = lazy(() => import("./code-editor.tsx").then((m) => (editorModule = m)));

/** Slugs are URL-safe; file names may not be, so Monaco gets a file URI it parses back to this path. */
const modelPathOf = (org: string, project: string, path: string) => `/${org}/${project}/${path}`;
const modelUri = (org: string, project: string, path: string) =>
  `file://${modelPathOf(org, project, path).split("/").map(encodeURIComponent).join("/")}`;

export function EditorPane() {
  const { org, project, canWrite } = useProject();
  const tabs = useEditor((s) => s.tabs);
  const active = useEditor((s) => s.active);
  const file = useEditor((s) => (s.active ? s.files[s.active] : undefined));

  // Leaving the project (or the workspace) drops its Monaco models.
  useEffect(
    () => () => {
      editorModule?.disposeModels((p) => p.startsWith(`/${org}/${project}/`));
    },
    [org, project],
  );

  return (
    <section aria-label="Editor" className="flex h-full min-w-0 flex-col bg-editor">
      <TabBar tabs={tabs} active={active} />
      {file?.conflict && <ConflictBanner file={file} />}
      <div className="relative min-h-0 flex-1">
        {!file ? (
          <EmptyState
            className="h-full"
            icon={<FileIcon className="size-8" />}
            title="No file open"
            description={
              <>
                Pick a file in the tree, or press <Kbd>Ctrl</Kbd> <Kbd>P</Kbd> to find one by name.
              </>
            }
          />
        ) : file.status === "loading" ? (
          <LoadingBlock label={`Opening ${basename(file.path)}`} />
        ) : file.status === "error" ? (
          <ErrorState title={`Cannot open ${basename(file.path)}`} message={file.error} />
        ) : file.status === "binary" ? (
          <EmptyState
            className="h-full"
            title="Binary file"
            description="This file is not text, so it cannot be edited here."
          />
        ) : (
          <Suspense fallback={<LoadingBlock label="Loading the editor" />}>
            <CodeEditor
              modelPath={modelUri(org, project, file.path)}
              value={file.value}
              language={languageOf(file.path)}
              readOnly={!canWrite}
              onChange={(v) => useEditor.getState().setValue(file.path, v)}
            />
          </Suspense>
        )}
      </div>
    </section>
  );
}

function Kbd({ children }: { children: string }) {
  return (
    <kbd className="rounded border border-line bg-surface-2 px-1 py-px font-mono text-[10px] text-neutral-300">
      {children}
    </kbd>
  );
}

function TabBar({ tabs, active }: { tabs: string[]; active: string | undefined }) {
  const { org, project } = useProject();
  const files = useEditor((s) => s.files);

  const close = (path: string) => {
    const f = files[path];
    if (isDirty(f) && !window.confirm(`${basename(path)} has unsaved changes. Close it anyway?`)) return;
    useEditor.getState().close(path);
    const closed = modelPathOf(org, project, path);
    editorModule?.disposeModels((p) => p === closed);
  };

  return (
    <div
      role="tablist"
      aria-label="Open files"
      className="flex h-9 shrink-0 items-stretch overflow-x-auto border-b border-line bg-surface-1"
    >
      {tabs.map((path) => {
        const f = files[path];
        const dirty = isDirty(f);
        return (
          <div
            key={path}
            role="tab"
            aria-selected={path === active}
            tabIndex={0}
            title={path}
            data-dirty={dirty || undefined}
            onClick={() => useEditor.getState().activate(path)}
            onKeyDown={(e) => {
              if (e.key === "Enter" || e.key === " ") useEditor.getState().activate(path);
            }}
            onAuxClick={(e) => {
              if (e.button === 1) close(path);
            }}
            className={cn(
              "group flex max-w-52 shrink-0 cursor-pointer items-center gap-1.5 border-r border-line pr-1 pl-3 text-xs select-none",
              path === active
                ? "bg-editor text-neutral-100 shadow-[inset_0_1px_0_var(--color-accent-500)]"
                : "text-neutral-400 hover:text-neutral-200",
            )}
          >
            <span className={cn("truncate", f?.conflict && "text-amber-300")}>{basename(path)}</span>
            <button
              type="button"
              aria-label={dirty ? `Close ${basename(path)} (unsaved)` : `Close ${basename(path)}`}
              onClick={(e) => {
                e.stopPropagation();
                close(path);
              }}
              className="relative flex size-5 items-center justify-center rounded hover:bg-tint/10"
            >
              {dirty && (
                <span
                  aria-hidden="true"
                  className="absolute size-2 rounded-full bg-neutral-300 group-hover:hidden"
                />
              )}
              <CloseIcon
                className={cn(
                  "size-3",
                  dirty ? "hidden group-hover:block" : "opacity-0 group-hover:opacity-100",
                  path === active && !dirty && "opacity-100",
                )}
              />
            </button>
          </div>
        );
      })}
      {tabs.length > 0 && active && files[active]?.saving && (
        <span className="ml-auto flex items-center px-3 text-[11px] text-neutral-500">Saving…</span>
      )}
    </div>
  );
}

function ConflictBanner({ file }: { file: OpenFile }) {
  const { org, project } = useProject();
  const deleted = file.conflict?.kind === "deleted";
  return (
    <div
      role="alert"
      className="flex shrink-0 items-center gap-3 border-b border-amber-500/30 bg-amber-500/10 px-3 py-1.5 text-xs text-amber-200"
    >
      <span className="flex-1">
        {deleted
          ? `${file.path} was deleted elsewhere while you had unsaved edits.`
          : `${file.path} was changed elsewhere while you had unsaved edits.`}
      </span>
      <Button size="xs" variant="ghost" onClick={() => acceptTheirs(file.path)}>
        {deleted ? "Close it" : "Use theirs"}
      </Button>
      <Button size="xs" variant="secondary" onClick={() => void saveFile(org, project, file.path, true)}>
        {deleted ? "Save mine again" : "Keep mine (save)"}
      </Button>
    </div>
  );
}
