import { create } from "zustand";
import { isWithin } from "../../lib/paths.ts";

export interface OpenFile {
  path: string;
  status: "loading" | "ready" | "error" | "binary";
  error?: string;
  /** Content as last read from or written to the server. */
  saved: string;
  /** The editor's current text; the file is dirty when it differs from `saved`. */
  value: string;
  version?: string;
  mtime?: string;
  saving: boolean;
  /** Someone else changed (or deleted) the file while it had unsaved edits here. */
  conflict?: { kind: "changed"; version: string; content: string } | { kind: "deleted" };
}

interface EditorState {
  scope: string;
  files: Record<string, OpenFile>;
  tabs: string[];
  active: string | undefined;
  reset(scope: string): void;
  open(path: string): void;
  close(path: string): void;
  activate(path: string): void;
  patch(path: string, patch: Partial<OpenFile>): void;
  setValue(path: string, value: string): void;
  /** A file or folder moved: tabs and buffers follow it. */
  moved(from: string, to: string): void;
  /** A file or folder was deleted here: its tabs close. */
  removed(path: string): void;
}

export const isDirty = (f: OpenFile | undefined): boolean =>
  !!f && f.status === "ready" && f.value !== f.saved;

const blank = (path: string): OpenFile => ({ path, status: "loading", saved: "", value: "", saving: false });

/** Open tabs and their buffers, for the one project the workspace shows. */
export const useEditor = create<EditorState>((set, get) => ({
  scope: "",
  files: {},
  tabs: [],
  active: undefined,
  reset(scope) {
    if (get().scope !== scope) set({ scope, files: {}, tabs: [], active: undefined });
  },
  open(path) {
    const { files, tabs } = get();
    set({
      files: files[path] ? files : { ...files, [path]: blank(path) },
      tabs: tabs.includes(path) ? tabs : [...tabs, path],
      active: path,
    });
  },
  close(path) {
    const { files, tabs, active } = get();
    const at = tabs.indexOf(path);
    const rest = tabs.filter((t) => t !== path);
    const { [path]: _gone, ...kept } = files;
    set({
      files: kept,
      tabs: rest,
      active: active === path ? (rest[Math.min(at, rest.length - 1)] ?? undefined) : active,
    });
  },
  activate(path) {
    set({ active: path });
  },
  patch(path, patch) {
    const f = get().files[path];
    if (f) set({ files: { ...get().files, [path]: { ...f, ...patch } } });
  },
  setValue(path, value) {
    const f = get().files[path];
    if (f && f.value !== value) set({ files: { ...get().files, [path]: { ...f, value } } });
  },
  moved(from, to) {
    const rename = (p: string) => (isWithin(p, from) ? to + p.slice(from.length) : p);
    const { files, tabs, active } = get();
    set({
      files: Object.fromEntries(
        Object.values(files).map((f) => [rename(f.path), { ...f, path: rename(f.path) }]),
      ),
      tabs: tabs.map(rename),
      active: active && rename(active),
    });
  },
  removed(path) {
    const { files, tabs, active } = get();
    const rest = tabs.filter((t) => !isWithin(t, path));
    set({
      files: Object.fromEntries(Object.entries(files).filter(([p]) => !isWithin(p, path))),
      tabs: rest,
      active: active && isWithin(active, path) ? rest[rest.length - 1] : active,
    });
  },
}));
