import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api } from "../../api/endpoints.ts";
import { describeError, isApiError } from "../../api/errors.ts";
import { keys } from "../../api/keys.ts";
import { succeeds } from "../../api/query-client.ts";
import { basename, join } from "../../lib/paths.ts";
import { useEditor } from "../editor/store.ts";

/** Why a file operation was refused, for a person. */
function reason(err: unknown): string {
  return isApiError(err, "file_exists")
    ? "Something with that name already exists there."
    : isApiError(err, "directory_not_empty")
      ? "The folder is not empty."
      : describeError(err);
}

/** File operations from the tree; each refreshes the tree and keeps open tabs pointing at the right files. */
export function useFileActions(org: string, project: string) {
  const queryClient = useQueryClient();
  const refresh = () => queryClient.invalidateQueries({ queryKey: keys.tree(org, project) });

  const createFile = useMutation({
    mutationFn: (path: string) =>
      api.files.write(org, project, { path, content: "", createOnly: true, createParents: true }),
    onSuccess: async (_, path) => {
      await refresh();
      useEditor.getState().open(path);
    },
    meta: { errorToast: (err: unknown, path: string) => `Could not create ${path}: ${reason(err)}` },
  });
  const createFolder = useMutation({
    mutationFn: (path: string) => api.files.mkdir(org, project, path),
    onSuccess: () => refresh(),
    meta: { errorToast: (err: unknown, path: string) => `Could not create ${path}: ${reason(err)}` },
  });
  const move = useMutation({
    mutationFn: ({ from, to }: { from: string; to: string }) => api.files.move(org, project, from, to),
    onSuccess: async (_, { from, to }) => {
      useEditor.getState().moved(from, to);
      await refresh();
    },
    meta: {
      errorToast: (err: unknown, { from }: { from: string }) =>
        `Could not move ${basename(from)}: ${reason(err)}`,
    },
  });
  const remove = useMutation({
    mutationFn: (path: string) => api.files.remove(org, project, path),
    onSuccess: async (_, path) => {
      useEditor.getState().removed(path);
      await refresh();
    },
    meta: { errorToast: (err: unknown, path: string) => `Could not delete ${path}: ${reason(err)}` },
  });

  const moveTo = (from: string, to: string): Promise<boolean> =>
    from === to ? Promise.resolve(true) : succeeds(move.mutateAsync({ from, to }));
  return {
    createFile: (path: string): Promise<boolean> => succeeds(createFile.mutateAsync(path)),
    createFolder: (path: string): Promise<boolean> => succeeds(createFolder.mutateAsync(path)),
    move: moveTo,
    /** Drag and drop: into a folder ("" is the root), keeping the name. */
    moveInto: (from: string, dir: string): Promise<boolean> => moveTo(from, join(dir, basename(from))),
    remove: (path: string): Promise<boolean> => succeeds(remove.mutateAsync(path)),
  };
}
