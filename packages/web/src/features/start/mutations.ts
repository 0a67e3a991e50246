import type { StartProjectBody } from "@kiln/protocol";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api } from "../../api/endpoints.ts";
import { keys } from "../../api/keys.ts";
import { useChatUi } from "../chat/chat-store.ts";
import { addTurn } from "../chat/mutations.ts";

/**
 * "What do you want to build?": the new project, its chat and its first turn are in the cache (and that chat
 * is the one its workspace opens) before anything navigates there. The form shows a refusal.
 */
export function useStartProject(org: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: StartProjectBody) => api.chats.startProject(org, body),
    onSuccess: async (started) => {
      const { project, chat } = started;
      qc.setQueryData(keys.project(org, project.slug), project);
      void qc.invalidateQueries({ queryKey: keys.projects(org) });
      useChatUi.getState().select(`${org}/${project.slug}`, chat.id);
      await addTurn(qc, org, project.slug, chat, started);
    },
    meta: { errorToast: false },
  });
}
