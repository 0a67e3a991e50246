import type {
  ApprovalDecision,
  ApprovalMode,
  Chat,
  ChatWithMessages,
  SendMessageResponse,
} from "@kiln/protocol";
import { type QueryClient, useMutation, useQueryClient } from "@tanstack/react-query";
import { api } from "../../api/endpoints.ts";
import { describeError, isApiError } from "../../api/errors.ts";
import { keys } from "../../api/keys.ts";
import { withMessage } from "./fold.ts";

/**
 * What the chat panel changes, each with what it refreshes. A refused turn, stop or approval reloads the
 * chat, whose stored state says what is true now; every failure is a toast (api/query-client.ts).
 */

/**
 * Puts a new turn (and the chat, when it is new here) into the cache; the follower streams it. Shared with
 * "Fix with agent" in the preview, whose turn arrives the same way.
 */
export async function addTurn(
  qc: QueryClient,
  org: string,
  project: string,
  chat: Chat,
  sent: SendMessageResponse,
): Promise<void> {
  const key = keys.chat(org, project, chat.id);
  // A read still on its way would land after this and take the new turn away again.
  await qc.cancelQueries({ queryKey: key });
  const old = qc.getQueryData<ChatWithMessages>(key);
  // `chat` may be what the composer saw before a mode change landed: the newer of the two wins.
  let next: ChatWithMessages = !old
    ? { ...chat, messages: [] }
    : Date.parse(old.updatedAt) > Date.parse(chat.updatedAt)
      ? old
      : { ...old, ...chat };
  if (sent.userMessage) next = withMessage(next, sent.userMessage);
  next = withMessage(next, sent.assistantMessage);
  qc.setQueryData(key, next);
  // A chat this page had not loaded yet has earlier messages too.
  if (!old) void qc.invalidateQueries({ queryKey: key });
  void qc.invalidateQueries({ queryKey: keys.chats(org, project) });
}

export function useCreateChat(org: string, project: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (settings: { mode: ApprovalMode; model: string | null; agentId?: string | null }) =>
      api.chats.create(org, project, {
        mode: settings.mode,
        ...(settings.model ? { model: settings.model } : {}),
        ...(settings.agentId ? { agentId: settings.agentId } : {}),
      }),
    onSuccess: (chat) => {
      qc.setQueryData<ChatWithMessages>(keys.chat(org, project, chat.id), { ...chat, messages: [] });
      void qc.invalidateQueries({ queryKey: keys.chats(org, project) });
    },
    meta: { errorToast: "Could not start a chat" },
  });
}

export function useSendMessage(org: string, project: string) {
  const qc = useQueryClient();
  return useMutation({
    /** `mode`: the one the selector shows, so the turn runs in it even if its change is still on the way. */
    mutationFn: async ({
      chat,
      content,
      mode,
      images = [],
    }: {
      chat: Chat;
      content: string;
      mode?: ApprovalMode;
      /** Attached in the composer: uploaded to the chat first, then named by the message (ADR 0041). */
      images?: readonly Blob[];
    }) => {
      const ids: string[] = [];
      for (const image of images) ids.push((await api.chats.uploadImage(org, project, chat.id, image)).id);
      return api.chats.send(org, project, chat.id, {
        content,
        ...(mode ? { mode } : {}),
        ...(ids.length ? { images: ids } : {}),
      });
    },
    onSuccess: (sent, { chat }) => addTurn(qc, org, project, chat, sent),
    onError: (_err, { chat }) => void qc.invalidateQueries({ queryKey: keys.chat(org, project, chat.id) }),
    meta: {
      errorToast: (err: unknown) =>
        isApiError(err, "chat_busy")
          ? "The agent is still answering. Stop it or wait."
          : `Could not send: ${describeError(err)}`,
    },
  });
}

export function useResumeTurn(org: string, project: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ chat, messageId }: { chat: Chat; messageId: string }) =>
      api.chats.resume(org, project, chat.id, messageId),
    onSuccess: (sent, { chat }) => addTurn(qc, org, project, chat, sent),
    onError: (_err, { chat }) => void qc.invalidateQueries({ queryKey: keys.chat(org, project, chat.id) }),
    meta: { errorToast: "Could not resume" },
  });
}

export function useCancelRun(org: string, project: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (chatId: string) => api.chats.cancel(org, project, chatId),
    onError: (_err, chatId) => void qc.invalidateQueries({ queryKey: keys.chat(org, project, chatId) }),
    meta: {
      // Already over (or running on another server that will notice): the reload shows which.
      errorToast: (err: unknown) =>
        isApiError(err, "run_not_active") ? null : `Could not stop: ${describeError(err)}`,
    },
  });
}

export function useDecideApproval(org: string, project: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({
      chatId,
      toolCallId,
      decision,
    }: {
      chatId: string;
      toolCallId: string;
      decision: ApprovalDecision;
    }) => api.chats.decide(org, project, chatId, toolCallId, decision),
    // "Approve all" changes the chat: its mode selector says so at once.
    onSuccess: (chat, { chatId }) => {
      qc.setQueryData<ChatWithMessages>(
        keys.chat(org, project, chatId),
        (old) => old && { ...old, ...chat, messages: old.messages },
      );
    },
    onError: (_err, { chatId }) => void qc.invalidateQueries({ queryKey: keys.chat(org, project, chatId) }),
    meta: {
      errorToast: (err: unknown) =>
        isApiError(err, "approval_not_found") ? "That request is no longer waiting." : describeError(err),
    },
  });
}

/** The chat's approval mode (a mode chosen ends an "Approve all") or model. */
export function useUpdateChat(org: string, project: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({
      chatId,
      body,
    }: {
      chatId: string;
      body: { mode?: ApprovalMode; approveAll?: boolean; model?: string | null; agentId?: string };
    }) => api.chats.update(org, project, chatId, body),
    // Shown (and sent with the next message) at once: a message sent right after picking a mode runs in it,
    // and a refetch already on its way cannot bring the old one back.
    onMutate: async ({ chatId, body }) => {
      await qc.cancelQueries({ queryKey: keys.chat(org, project, chatId) });
      // An agent's version is the server's to say: the header shows the switch once it has answered.
      const { agentId: _agent, ...shown } = body;
      qc.setQueryData<ChatWithMessages>(
        keys.chat(org, project, chatId),
        (old) => old && { ...old, ...shown },
      );
    },
    onError: (_err, { chatId }) => void qc.invalidateQueries({ queryKey: keys.chat(org, project, chatId) }),
    onSuccess: (chat, { chatId }) => {
      qc.setQueryData<ChatWithMessages>(
        keys.chat(org, project, chatId),
        (old) => old && { ...old, ...chat, messages: old.messages },
      );
      void qc.invalidateQueries({ queryKey: keys.chats(org, project) });
    },
  });
}

export function useRemoveChat(org: string, project: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (chatId: string) => api.chats.remove(org, project, chatId),
    onSuccess: async (_, chatId) => {
      qc.removeQueries({ queryKey: keys.chat(org, project, chatId) });
      await qc.invalidateQueries({ queryKey: keys.chats(org, project) });
    },
  });
}
