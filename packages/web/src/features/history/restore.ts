import type { RestoreResult } from "@kiln/protocol";
import { useQueryClient } from "@tanstack/react-query";
import { api } from "../../api/endpoints.ts";
import { describeError, isApiError } from "../../api/errors.ts";
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
  return {
    async undoTurn(messageId: string): Promise<boolean> {
      try {
        const result = await withConsent((force) => api.history.undo(org, project, messageId, force));
        if (!result) return false;
        after(result);
        toast.success(
          result.changedPaths.length > 0
            ? `Undid the turn: ${filesLabel(result.changedPaths.length)} restored`
            : "Nothing to undo: the files already match",
        );
        return true;
      } catch (err) {
        toast.error(`Could not undo: ${describeError(err)}`);
        return false;
      }
    },
    async restore(sha: string, label: string): Promise<boolean> {
      const ok = await confirmDialog({
        title: `Restore ${label}?`,
        description:
          "The project's files go back to how they were at this checkpoint. The restore is saved as a new checkpoint, so you can undo it too.",
        confirmLabel: "Restore",
      });
      if (!ok) return false;
      try {
        const result = await withConsent((force) => api.history.restore(org, project, sha, force));
        if (!result) return false;
        after(result);
        toast.success(`Restored ${label}: ${filesLabel(result.changedPaths.length)} changed`);
        return true;
      } catch (err) {
        toast.error(`Could not restore: ${describeError(err)}`);
        return false;
      }
    },
  };
}
