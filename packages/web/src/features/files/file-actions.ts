import { useQueryClient } from "@tanstack/react-query";
import { api } from "../../api/endpoints.ts";
import { describeError, isApiError } from "../../api/errors.ts";
import { keys } from "../../api/keys.ts";
import { basename, join } from "../../lib/paths.ts";
import { toast } from "../../ui/toast.tsx";
import { useEditor } from "../editor/store.ts";

/** File operations from the tree; each refreshes the tree and keeps open tabs pointing at the right files. */
export function useFileActions(org: string, project: string) {
  const queryClient = useQueryClient();
  const refresh = () => queryClient.invalidateQueries({ queryKey: keys.tree(org, project) });

  const fail = (what: string, err: unknown) => {
    const message = isApiError(err, "file_exists")
      ? "Something with that name already exists there."
      : isApiError(err, "directory_not_empty")
        ? "The folder is not empty."
        : describeError(err);
    toast.error(`${what}: ${message}`);
  };

  return {
    async createFile(path: string): Promise<boolean> {
      try {
        await api.files.write(org, project, { path, content: "", createOnly: true, createParents: true });
        await refresh();
        useEditor.getState().open(path);
        return true;
      } catch (err) {
        fail(`Could not create ${path}`, err);
        return false;
      }
    },
    async createFolder(path: string): Promise<boolean> {
      try {
        await api.files.mkdir(org, project, path);
        await refresh();
        return true;
      } catch (err) {
        fail(`Could not create ${path}`, err);
        return false;
      }
    },
    async move(from: string, to: string): Promise<boolean> {
      if (from === to) return true;
      try {
        await api.files.move(org, project, from, to);
        useEditor.getState().moved(from, to);
        await refresh();
        return true;
      } catch (err) {
        fail(`Could not move ${basename(from)}`, err);
        return false;
      }
    },
    /** Drag and drop: into a folder ("" is the root), keeping the name. */
    moveInto(from: string, dir: string): Promise<boolean> {
      return this.move(from, join(dir, basename(from)));
    },
    async remove(path: string): Promise<boolean> {
      try {
        await api.files.remove(org, project, path);
        useEditor.getState().removed(path);
        await refresh();
        return true;
      } catch (err) {
        fail(`Could not delete ${path}`, err);
        return false;
      }
    },
  };
}
