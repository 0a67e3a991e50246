import type { RestoreResult } from "@kiln/protocol";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api } from "../../api/endpoints.ts";
import { isApiError } from "../../api/errors.ts";
import { keys } from "../../api/keys.ts";
import { reloadIfBroken } from "../../state/preview-reload.ts";
import { confirmDialog } from "../../ui/confirm.tsx";
import { toast } from "../../ui/toast.tsx";

/**
 * Runs a restore or an undo. Files changed since the last checkpoint make the server refuse
 * (uncommitted_changes) rather than lose them; the user may then have them saved as a checkpoint first.
 */
async function withConsent(run: (force: boolean) => Promise<RestoreResult>): Promise<RestoreResult | null> {
  try {
    return await run(false);
  } catch (err) {
    if (!isApiError(err, "uncommitted_changes")) throw err;
  }
  const ok = await confirmDialog({
    title: "Save your edits first?",
    description:
      "Some files changed after the last checkpoint (edits made in the editor or the terminal). Kiln can save them as a checkpoint of their own and then restore, so nothing is lost.",
    confirmLabel: "Save my edits and restore",
  });
  return ok ? run(true) : null;
}

function filesLabel(n: number): string {
  return n === 1 ? "1 file" : `${n} files`;
}

/** Undo one agent turn and restore a checkpoint; both refresh files and history when they are done. */
export function useRestoreActions(org: string, project: string) {
  const queryClient = useQueryClient();
  const after = (result: RestoreResult) => {
    void queryClient.invalidateQueries({ queryKey: keys.history(org, project) });
    void queryClient.invalidateQueries({ queryKey: keys.tree(org, project) });
    // Server time (the page's clock may be off); git keeps whole seconds, and the files were written
    // just before the commit. The page's reports of half-way states arrive a moment after.
    const committed = result.checkpoint ? Date.parse(result.checkpoint.createdAt) : Number.NaN;
    if (Number.isNaN(committed)) return;
    setTimeout(() => void reloadIfBroken(org, project, committed - 5000), 1500);
  };
  const undo = useMutation({
    mutationFn: (messageId: string) =>
      withConsent((force) => api.history.undo(org, project, messageId, force)),
    onSuccess: (result) => {
      if (!result) return;
      after(result);
      toast.success(
        result.changedPaths.length > 0
          ? `Undid the turn: ${filesLabel(result.changedPaths.length)} restored`
          : "Nothing to undo: the files already match",
      );
    },
    meta: { errorToast: "Could not undo" },
  });
  const restore = useMutation({
    mutationFn: ({ sha }: { sha: string; label: string }) =>
      withConsent((force) => api.history.restore(org, project, sha, force)),
    onSuccess: (result, { label }) => {
      if (!result) return;
      after(result);
      toast.success(`Restored ${label}: ${filesLabel(result.changedPaths.length)} changed`);
    },
    meta: { errorToast: "Could not restore" },
  });
  /** True when it was done; false when the user declined or it failed (the failure is a toast). */
  const done = (change: Promise<RestoreResult | null>): Promise<boolean> =>
    change.then(
      (result) => result !== null,
      () => false,
    );
  return {
    undoTurn: (messageId: string): Promise<boolean> => done(undo.mutateAsync(messageId)),
    async restore(sha: string, label: string): Promise<boolean> {
      const ok = await confirmDialog({
        title: `Restore ${label}?`,
        description:
          "The project's files go back to how they were at this checkpoint. The restore is saved as a new checkpoint, so you can undo it too.",
        confirmLabel: "Restore",
      });
      return ok ? done(restore.mutateAsync({ sha, label })) : false;
    },
  };
}
