import { type DragEvent, type KeyboardEvent, useEffect, useMemo, useRef, useState } from "react";
import { describeError } from "../../api/errors.ts";
import { dirname, isWithin, join, validName } from "../../lib/paths.ts";
import { useProject } from "../../state/project-context.tsx";
import { Button, IconButton } from "../../ui/button.tsx";
import { cn } from "../../ui/cn.ts";
import { ContextMenu } from "../../ui/context-menu.tsx";
import { Dialog } from "../../ui/dialog.tsx";
import {
  ChevronDown,
  ChevronRight,
  FileIcon,
  FolderIcon,
  FolderOpenIcon,
  NewFileIcon,
  NewFolderIcon,
  PencilIcon,
  RefreshIcon,
  TrashIcon,
} from "../../ui/icons.tsx";
import type { MenuEntry } from "../../ui/menu.tsx";
import { LoadingBlock } from "../../ui/spinner.tsx";
import { EmptyState, ErrorState } from "../../ui/states.tsx";
import { isDirty, useEditor } from "../editor/store.ts";
import { useFileActions } from "./file-actions.ts";
import { buildTree, ignored, type TreeNode, visibleRows } from "./tree.ts";
import { useFileTree } from "./use-file-tree.ts";

type Editing = { mode: "new-file" | "new-folder"; dir: string } | { mode: "rename"; path: string };

const DRAG_TYPE = "application/x-kiln-path";

export function FileTree() {
  const { org, project, canWrite } = useProject();
  const tree = useFileTree(org, project);
  const actions = useFileActions(org, project);
  const active = useEditor((s) => s.active);
  const files = useEditor((s) => s.files);
  const [open, setOpen] = useState<Set<string>>(() => new Set(["src"]));
  const [selected, setSelected] = useState<string>();
  const [editing, setEditing] = useState<Editing>();
  const [menu, setMenu] = useState<{ x: number; y: number; node: TreeNode | undefined }>();
  const [deleting, setDeleting] = useState<TreeNode>();
  const [dropTarget, setDropTarget] = useState<string>();

  const nodes = useMemo(() => buildTree(tree.data?.entries ?? []), [tree.data]);
  const rows = useMemo(() => visibleRows(nodes, open), [nodes, open]);

  const toggle = (path: string, force?: boolean) =>
    setOpen((o) => {
      const n = new Set(o);
      if (force ?? !n.has(path)) n.add(path);
      else n.delete(path);
      return n;
    });

  const startCreate = (mode: "new-file" | "new-folder", target: TreeNode | undefined) => {
    const dir = !target ? "" : target.type === "directory" ? target.path : dirname(target.path);
    if (dir) toggle(dir, true);
    setEditing({ mode, dir });
  };

  const commit = async (name: string) => {
    if (!editing) return;
    const current = editing;
    setEditing(undefined);
    if (current.mode === "rename") {
      const to = join(dirname(current.path), name.trim());
      if (to !== current.path) await actions.move(current.path, to);
      return;
    }
    const path = join(current.dir, name.trim());
    if (current.mode === "new-file") await actions.createFile(path);
    else if (await actions.createFolder(path)) toggle(path, true);
  };

  const menuItems = (node: TreeNode | undefined): MenuEntry[] => {
    const items: MenuEntry[] = [
      { label: "New file", icon: <NewFileIcon />, onSelect: () => startCreate("new-file", node) },
      { label: "New folder", icon: <NewFolderIcon />, onSelect: () => startCreate("new-folder", node) },
    ];
    if (node) {
      items.push(
        "separator",
        {
          label: "Rename",
          icon: <PencilIcon />,
          hint: "F2",
          onSelect: () => setEditing({ mode: "rename", path: node.path }),
        },
        {
          label: "Delete",
          icon: <TrashIcon />,
          hint: "Del",
          danger: true,
          onSelect: () => setDeleting(node),
        },
      );
    }
    return items;
  };

  const onDrop = (e: DragEvent, dir: string) => {
    e.preventDefault();
    e.stopPropagation();
    setDropTarget(undefined);
    const from = e.dataTransfer.getData(DRAG_TYPE);
    if (!from || isWithin(dir, from) || dirname(from) === dir) return;
    void actions.moveInto(from, dir).then((ok) => ok && dir && toggle(dir, true));
  };

  const onRowKey = (e: KeyboardEvent, node: TreeNode) => {
    const all = [
      ...(e.currentTarget.closest("[role=tree]")?.querySelectorAll<HTMLElement>("[role=treeitem]") ?? []),
    ];
    const at = all.indexOf(e.currentTarget as HTMLElement);
    if (e.key === "ArrowDown") all[at + 1]?.focus();
    else if (e.key === "ArrowUp") all[at - 1]?.focus();
    else if (e.key === "ArrowRight" && node.type === "directory") toggle(node.path, true);
    else if (e.key === "ArrowLeft" && node.type === "directory") toggle(node.path, false);
    else if (e.key === "Enter")
      node.type === "directory" ? toggle(node.path) : useEditor.getState().open(node.path);
    else if (e.key === "F2" && canWrite) setEditing({ mode: "rename", path: node.path });
    else if (e.key === "Delete" && canWrite) setDeleting(node);
    else return;
    e.preventDefault();
  };

  const editRow = (depth: number, initial: string, isFolder: boolean, key: string) => (
    <NameInput
      key={key}
      depth={depth}
      initial={initial}
      folder={isFolder}
      onCommit={commit}
      onCancel={() => setEditing(undefined)}
    />
  );

  const body = () => {
    if (tree.isPending) return <LoadingBlock label="Loading files" />;
    if (tree.isError && !tree.data) {
      return (
        <ErrorState
          title="Could not list files"
          message={describeError(tree.error)}
          onRetry={() => tree.refetch()}
        />
      );
    }
    const out: React.ReactNode[] = [];
    if (editing && editing.mode !== "rename" && editing.dir === "")
      out.push(editRow(0, "", editing.mode === "new-folder", "new-root"));
    for (const { node, depth } of rows) {
      if (editing?.mode === "rename" && editing.path === node.path) {
        out.push(editRow(depth, node.name, node.type === "directory", `rename-${node.path}`));
      } else {
        const isDir = node.type === "directory";
        const dim = ignored(node);
        const isOpen = open.has(node.path);
        const dirty = isDirty(files[node.path]);
        out.push(
          <div
            key={node.path}
            role="treeitem"
            aria-expanded={isDir ? isOpen : undefined}
            aria-selected={node.path === active}
            aria-level={depth + 1}
            tabIndex={
              node.path === (selected ?? active) || (!selected && !active && out.length === 0) ? 0 : -1
            }
            data-path={node.path}
            draggable={canWrite}
            onDragStart={(e) => {
              e.dataTransfer.setData(DRAG_TYPE, node.path);
              e.dataTransfer.effectAllowed = "move";
            }}
            onDragOver={(e) => {
              if (!e.dataTransfer.types.includes(DRAG_TYPE)) return;
              e.preventDefault();
              e.stopPropagation();
              setDropTarget(isDir ? node.path : dirname(node.path));
            }}
            onDrop={(e) => onDrop(e, isDir ? node.path : dirname(node.path))}
            onClick={() => {
              setSelected(node.path);
              if (isDir && !dim) toggle(node.path);
              else useEditor.getState().open(node.path);
            }}
            onContextMenu={(e) => {
              if (!canWrite) return;
              e.preventDefault();
              setSelected(node.path);
              setMenu({ x: e.clientX, y: e.clientY, node });
            }}
            onKeyDown={(e) => onRowKey(e, node)}
            style={{ paddingLeft: 8 + depth * 12 }}
            className={cn(
              "group flex h-6 cursor-pointer items-center gap-1 pr-2 text-[13px] outline-none select-none focus-visible:ring-1 focus-visible:ring-accent-500 focus-visible:ring-inset",
              node.path === active ? "bg-accent-500/12 text-neutral-50" : "text-neutral-300 hover:bg-tint/5",
              dropTarget !== undefined &&
                isDir &&
                dropTarget === node.path &&
                "bg-sky-500/15 ring-1 ring-sky-500/50 ring-inset",
            )}
          >
            <span className="flex w-3.5 shrink-0 justify-center text-neutral-500">
              {isDir &&
                !dim &&
                (isOpen ? <ChevronDown className="size-3" /> : <ChevronRight className="size-3" />)}
            </span>
            {isDir ? (
              isOpen ? (
                <FolderOpenIcon className="size-3.5 shrink-0 text-sky-400/80" />
              ) : (
                <FolderIcon className="size-3.5 shrink-0 text-sky-400/80" />
              )
            ) : (
              <FileIcon className="size-3.5 shrink-0 text-neutral-500" />
            )}
            <span
              className={cn("ml-0.5 truncate", dim && "text-neutral-500")}
              title={dim ? "Installed dependencies (not listed)" : undefined}
            >
              {node.name}
            </span>
            {dirty && (
              <span
                title="Unsaved changes"
                className="ml-auto size-1.5 shrink-0 rounded-full bg-neutral-300"
              />
            )}
          </div>,
        );
        if (editing && editing.mode !== "rename" && isDir && editing.dir === node.path) {
          out.push(editRow(depth + 1, "", editing.mode === "new-folder", `new-${node.path}`));
        }
      }
    }
    if (out.length === 0) {
      return (
        <EmptyState
          title="No files yet"
          description="Create a file to start."
          action={
            canWrite && (
              <Button size="sm" onClick={() => startCreate("new-file", undefined)}>
                New file
              </Button>
            )
          }
        />
      );
    }
    return out;
  };

  return (
    <section aria-label="Files" className="flex h-full min-w-0 flex-col bg-surface-1">
      <div className="flex h-9 shrink-0 items-center gap-0.5 border-b border-line pr-1 pl-3">
        <span className="mr-auto text-[11px] font-semibold tracking-wider text-neutral-400 uppercase">
          Files
        </span>
        {canWrite && (
          <>
            <IconButton
              label="New file"
              onClick={() => startCreate("new-file", selected ? nodeAt(nodes, selected) : undefined)}
            >
              <NewFileIcon className="size-3.5" />
            </IconButton>
            <IconButton
              label="New folder"
              onClick={() => startCreate("new-folder", selected ? nodeAt(nodes, selected) : undefined)}
            >
              <NewFolderIcon className="size-3.5" />
            </IconButton>
          </>
        )}
        <IconButton label="Refresh files" onClick={() => tree.refetch()}>
          <RefreshIcon className={cn("size-3.5", tree.isFetching && "animate-spin")} />
        </IconButton>
      </div>
      <div
        role="tree"
        aria-label="Project files"
        className={cn("min-h-0 flex-1 overflow-auto py-1", dropTarget === "" && "bg-sky-500/5")}
        onDragOver={(e) => {
          if (!e.dataTransfer.types.includes(DRAG_TYPE)) return;
          e.preventDefault();
          setDropTarget("");
        }}
        onDragLeave={(e) => {
          if (e.currentTarget === e.target) setDropTarget(undefined);
        }}
        onDrop={(e) => onDrop(e, "")}
        onContextMenu={(e) => {
          if (!canWrite || e.target !== e.currentTarget) return;
          e.preventDefault();
          setMenu({ x: e.clientX, y: e.clientY, node: undefined });
        }}
      >
        {body()}
        {tree.data?.truncated && (
          <p className="px-3 py-2 text-[11px] text-amber-400/80">
            Only the first {tree.data.entries.length} entries are shown.
          </p>
        )}
      </div>
      {menu && (
        <ContextMenu
          at={menu}
          label={menu.node ? `${menu.node.name} actions` : "File actions"}
          items={menuItems(menu.node)}
          onClose={() => setMenu(undefined)}
        />
      )}
      <Dialog
        open={deleting !== undefined}
        onClose={() => setDeleting(undefined)}
        title={`Delete ${deleting?.name ?? ""}?`}
        description={
          deleting?.type === "directory" ? "The folder and everything in it will be deleted." : undefined
        }
      >
        <p className="text-sm text-neutral-300">
          <code className="font-mono text-xs">{deleting?.path}</code> cannot be restored from here.
        </p>
        <div className="mt-5 flex justify-end gap-2">
          <Button onClick={() => setDeleting(undefined)}>Cancel</Button>
          <Button
            variant="danger"
            onClick={() => {
              const node = deleting;
              setDeleting(undefined);
              if (node) void actions.remove(node.path);
            }}
          >
            Delete
          </Button>
        </div>
      </Dialog>
    </section>
  );
}

function nodeAt(nodes: TreeNode[], path: string): TreeNode | undefined {
  for (const n of nodes) {
    if (n.path === path) return n;
    if (isWithin(path, n.path)) return nodeAt(n.children, path);
  }
  return undefined;
}

/** The inline name box for new files and folders and for renames: Enter commits, Escape or blur cancels. */
function NameInput({
  depth,
  initial,
  folder,
  onCommit,
  onCancel,
}: {
  depth: number;
  initial: string;
  folder: boolean;
  onCommit: (name: string) => void;
  onCancel: () => void;
}) {
  const [value, setValue] = useState(initial);
  const input = useRef<HTMLInputElement>(null);
  const error = value && value !== initial ? validName(value) : undefined;
  useEffect(() => {
    const el = input.current;
    if (!el) return;
    el.focus();
    // Select the name without its extension, as editors do on rename.
    const dot = initial.lastIndexOf(".");
    el.setSelectionRange(0, dot > 0 ? dot : initial.length);
  }, [initial]);
  return (
    <div style={{ paddingLeft: 8 + depth * 12 }} className="flex flex-col py-0.5 pr-2">
      <div className="flex items-center gap-1">
        <span className="w-3.5" />
        {folder ? (
          <FolderIcon className="size-3.5 shrink-0 text-sky-400/80" />
        ) : (
          <FileIcon className="size-3.5 shrink-0 text-neutral-500" />
        )}
        <input
          aria-label={folder ? "Folder name" : "File name"}
          ref={input}
          value={value}
          onChange={(e) => setValue(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === "Enter") {
              e.preventDefault();
              if (!validName(value) && value !== initial) onCommit(value);
              else if (value === initial) onCancel();
            } else if (e.key === "Escape") onCancel();
          }}
          onBlur={onCancel}
          className={cn(
            "h-5 min-w-0 flex-1 rounded-sm border bg-surface-0 px-1 text-[13px] text-neutral-100 outline-none",
            error ? "border-red-500" : "border-accent-500",
          )}
        />
      </div>
      {error && <span className="ml-8 text-[11px] text-red-400">{error}</span>}
    </div>
  );
}
