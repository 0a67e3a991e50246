import type { FileTree } from "@kiln/protocol";
import { useEffect, useRef } from "react";
import { api } from "../../api/endpoints.ts";
import { describeError, isApiError } from "../../api/errors.ts";
import { toast } from "../../ui/toast.tsx";
import { isDirty, useEditor } from "./store.ts";

/** Reads every open file that is still loading. */
export function useLoadOpenFiles(org: string, project: string): void {
  const files = useEditor((s) => s.files);
  const inFlight = useRef(new Set<string>());
  useEffect(() => {
    for (const f of Object.values(files)) {
      if (f.status !== "loading" || inFlight.current.has(f.path)) continue;
      inFlight.current.add(f.path);
      api.files
        .read(org, project, f.path)
        .then((c) => {
          const patch =
            c.encoding === "base64"
              ? { status: "binary" as const, mtime: c.mtime, version: c.version }
              : {
                  status: "ready" as const,
                  saved: c.content,
                  value: c.content,
                  version: c.version,
                  mtime: c.mtime,
                };
          useEditor.getState().patch(f.path, patch);
        })
        .catch((err) => {
          useEditor.getState().patch(f.path, {
            status: "error",
            error: isApiError(err, "file_too_large")
              ? "This file is too large to edit here."
              : describeError(err),
          });
        })
        .finally(() => inFlight.current.delete(f.path));
    }
  }, [files, org, project]);
}

/**
 * Brings open files up to date with changes made elsewhere (the agent, the terminal, another tab). The
 * tree's mtimes say which files to read again; versions decide whether anything really changed. A file
 * with unsaved edits is never overwritten: it gets a conflict to resolve instead.
 */
export function useRemoteChanges(org: string, project: string, tree: FileTree | undefined): void {
  const checking = useRef(new Set<string>());
  useEffect(() => {
    if (!tree) return;
    const mtimes = new Map(tree.entries.map((e) => [e.path, e.mtime]));
    const { files } = useEditor.getState();
    for (const f of Object.values(files)) {
      if (f.status !== "ready" || f.saving || checking.current.has(f.path)) continue;
      const mtime = mtimes.get(f.path);
      if (mtime === undefined) {
        if (tree.truncated) continue;
        if (isDirty(f)) {
          if (f.conflict?.kind !== "deleted")
            useEditor.getState().patch(f.path, { conflict: { kind: "deleted" } });
        } else {
          useEditor.getState().close(f.path);
          toast.info(`${f.path} was deleted`);
        }
        continue;
      }
      if (mtime === f.mtime) continue;
      checking.current.add(f.path);
      api.files
        .read(org, project, f.path)
        .then((c) => {
          const now = useEditor.getState().files[f.path];
          if (now?.status !== "ready" || c.encoding !== "utf8") return;
          if (c.version === now.version) return useEditor.getState().patch(f.path, { mtime: c.mtime });
          if (!isDirty(now)) {
            useEditor.getState().patch(f.path, {
              saved: c.content,
              value: c.content,
              version: c.version,
              mtime: c.mtime,
              conflict: undefined,
            });
          } else {
            useEditor.getState().patch(f.path, {
              mtime: c.mtime,
              conflict: { kind: "changed", version: c.version, content: c.content },
            });
          }
        })
        .catch(() => {
          // The next poll tries again.
        })
        .finally(() => checking.current.delete(f.path));
    }
  }, [tree, org, project]);
}

/**
 * Saves a file if it has unsaved edits. `expectedVersion` makes the server refuse (file_changed) when the
 * file changed since it was read, so edits made elsewhere are never silently overwritten; `force` saves
 * over them after the user chose to.
 */
export async function saveFile(org: string, project: string, path: string, force = false): Promise<boolean> {
  const store = useEditor.getState();
  const f = store.files[path];
  if (f?.status !== "ready" || f.saving) return false;
  if (!isDirty(f) && !force) return true;
  const content = f.value;
  const expected = force ? undefined : f.version;
  if (!force && f.conflict) {
    toast.error(`${path} changed elsewhere. Choose which version to keep first.`);
    return false;
  }
  store.patch(path, { saving: true });
  try {
    const info = await api.files.write(org, project, {
      path,
      content,
      ...(expected ? { expectedVersion: expected } : {}),
      createParents: true,
    });
    useEditor.getState().patch(path, {
      saving: false,
      saved: content,
      version: info.version,
      mtime: info.mtime,
      conflict: undefined,
    });
    return true;
  } catch (err) {
    useEditor.getState().patch(path, { saving: false });
    if (isApiError(err, "file_changed")) {
      try {
        const c = await api.files.read(org, project, path);
        useEditor.getState().patch(path, {
          conflict: { kind: "changed", version: c.version, content: c.content },
          mtime: c.mtime,
        });
      } catch {
        // the conflict banner will come with the next poll
      }
      toast.error(`${path} was changed elsewhere since you opened it.`);
    } else {
      toast.error(`Could not save ${path}: ${describeError(err)}`);
    }
    return false;
  }
}

/** Takes the other side of a conflict: their content replaces the buffer. */
export function acceptTheirs(path: string): void {
  const f = useEditor.getState().files[path];
  if (!f?.conflict) return;
  if (f.conflict.kind === "deleted") {
    useEditor.getState().close(path);
    return;
  }
  useEditor.getState().patch(path, {
    saved: f.conflict.content,
    value: f.conflict.content,
    version: f.conflict.version,
    conflict: undefined,
  });
}
