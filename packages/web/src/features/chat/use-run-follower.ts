import type { ChatWithMessages, RunEvent } from "@kiln/protocol";
import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { api } from "../../api/endpoints.ts";
import { keys } from "../../api/keys.ts";
import { reloadIfBroken, reloadPreview } from "../../state/preview-reload.ts";
import { applyRunEvent, blankRun, withMessage } from "./fold.ts";
import { followRun, type RunStreamState } from "./run-stream.ts";

/** Events are applied in small batches: a fast model sends hundreds of text deltas a second. */
const BATCH_MS = 40;

/**
 * Streams the running turn of a chat into the chat's query data, folding events the way the server does.
 * A turn is always replayed from its first event (after a refresh the page has no event number to go
 * on); until the replay has caught up with what the page already shows, the shown parts stay, so a
 * reload does not flash an emptier message. Files, history and costs are refreshed as the turn changes
 * them.
 */
export function useRunFollower(
  org: string,
  project: string,
  chatId: string | null,
  runningId: string | undefined,
): RunStreamState | "idle" {
  const queryClient = useQueryClient();
  const [state, setState] = useState<RunStreamState | "idle">("idle");

  useEffect(() => {
    if (!chatId || !runningId) {
      setState("idle");
      return;
    }
    const key = keys.chat(org, project, chatId);
    const initial = queryClient.getQueryData<ChatWithMessages>(key)?.messages.find((m) => m.id === runningId);
    if (!initial) return;
    let folded = blankRun(initial);
    const shownParts = initial.parts.length;
    let caughtUp = shownParts === 0;
    let ended = false;
    let queue: RunEvent[] = [];
    let timer: ReturnType<typeof setTimeout> | undefined;

    const flush = () => {
      timer = undefined;
      const batch = queue;
      queue = [];
      for (const e of batch) folded = applyRunEvent(folded, e.event);
      caughtUp ||= ended || folded.parts.length >= shownParts;
      if (caughtUp) queryClient.setQueryData<ChatWithMessages>(key, (old) => old && withMessage(old, folded));
      if (batch.some((e) => e.event.type === "tool-call-end")) {
        void queryClient.invalidateQueries({ queryKey: keys.tree(org, project) });
      }
      if (batch.some((e) => e.event.type === "checkpoint")) {
        void queryClient.invalidateQueries({ queryKey: keys.history(org, project) });
      }
      if (ended) {
        // The stored row is the last word: checkpoint, final usage, and the status after an interruption.
        void queryClient.invalidateQueries({ queryKey: key });
        void queryClient.invalidateQueries({ queryKey: keys.chats(org, project) });
        void queryClient.invalidateQueries({ queryKey: keys.chatCosts(org, chatId) });
        void queryClient.invalidateQueries({ queryKey: keys.history(org, project) });
        if (folded.checkpointSha) {
          reloadPreview();
          // The dev server may still have been taking in the turn's last writes when that reload asked for
          // the page: if the fresh page threw, load it once more when they have surely landed.
          const since = Date.now();
          setTimeout(() => void reloadIfBroken(org, project, since), 1500);
        }
      }
    };

    const stop = followRun((after) => api.chats.eventsUrl(org, project, chatId, runningId, after), 0, {
      onEvent(e) {
        queue.push(e);
        timer ??= setTimeout(flush, BATCH_MS);
      },
      onState: setState,
      onEnd() {
        ended = true;
        clearTimeout(timer);
        flush();
        setState("idle");
      },
    });
    return () => {
      stop();
      clearTimeout(timer);
    };
  }, [org, project, chatId, runningId, queryClient]);

  return state;
}
