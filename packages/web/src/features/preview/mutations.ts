import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api } from "../../api/endpoints.ts";
import { describeError, isApiError } from "../../api/errors.ts";
import { keys } from "../../api/keys.ts";
import { toast } from "../../ui/toast.tsx";
import { addTurn } from "../chat/mutations.ts";

/**
 * "Fix with agent": a turn with the preview's errors, in the chat given (or a new one); the turn is in the
 * chat's data when this settles. Errors that went away in the meantime are news, not a failure.
 */
export function useFixPreviewErrors(org: string, project: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (chatId: string | undefined) => api.previewErrors.fix(org, project, chatId ? { chatId } : {}),
    onSuccess: (res) => addTurn(qc, org, project, res.chat, res),
    onError: (err) => {
      if (!isApiError(err, "no_preview_errors")) return;
      toast.info("The preview has no errors any more.");
      void qc.invalidateQueries({ queryKey: keys.previewErrors(org, project) });
    },
    meta: {
      errorToast: (err: unknown) =>
        isApiError(err, "no_preview_errors") ? null : `Could not start the fix: ${describeError(err)}`,
    },
  });
}

export function useClearPreviewErrors(org: string, project: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: () => api.previewErrors.clear(org, project),
    onSuccess: () => void qc.invalidateQueries({ queryKey: keys.previewErrors(org, project) }),
  });
}

/** A one-minute hand-off link to the preview, for a tab of its own. */
export function useOpenPreviewSession(org: string, project: string) {
  return useMutation({
    mutationFn: () => api.runtime.previewSession(org, project),
    meta: { errorToast: "Could not open the preview" },
  });
}
