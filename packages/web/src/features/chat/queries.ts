import type { ChatWithMessages, LlmCall } from "@kiln/protocol";
import { queryOptions } from "@tanstack/react-query";
import { api } from "../../api/endpoints.ts";
import { keys } from "../../api/keys.ts";

export const chatsQuery = (org: string, project: string) =>
  queryOptions({
    queryKey: keys.chats(org, project),
    queryFn: () => api.chats.list(org, project),
    // Turns started elsewhere (another tab, "Fix with agent") show up without a reload.
    refetchInterval: 15_000,
  });

export const chatQuery = (org: string, project: string, chatId: string) =>
  queryOptions<ChatWithMessages>({
    queryKey: keys.chat(org, project, chatId),
    queryFn: () => api.chats.get(org, project, chatId),
    staleTime: 5_000,
  });

/** Pages of the call log are 200 calls at most; a chat longer than this shows the cost of its latest. */
const MAX_COST_PAGES = 5;

/** Cost in US dollars per assistant message of a chat, from the model call log (null: no price known). */
export const chatCostsQuery = (org: string, chatId: string) =>
  queryOptions({
    queryKey: keys.chatCosts(org, chatId),
    queryFn: async () => {
      const calls: LlmCall[] = [];
      let before: string | undefined;
      for (let page = 0; page < MAX_COST_PAGES; page++) {
        const res = await api.llm.calls(org, { chatId, limit: 200, ...(before ? { before } : {}) });
        calls.push(...res.calls);
        if (!res.nextBefore) break;
        before = res.nextBefore;
      }
      return costsByMessage(calls);
    },
    staleTime: 30_000,
  });

export interface MessageCosts {
  byMessage: Map<string, number | null>;
  total: number | null;
}

/** Sums call costs per message; a message with any unpriced call has an unknown (null) cost. */
export function costsByMessage(calls: readonly LlmCall[]): MessageCosts {
  const byMessage = new Map<string, number | null>();
  let total: number | null = null;
  for (const call of calls) {
    if (!call.messageId) continue;
    const before = byMessage.has(call.messageId) ? byMessage.get(call.messageId)! : 0;
    byMessage.set(call.messageId, before === null || call.costUsd === null ? null : before + call.costUsd);
    if (call.costUsd !== null) total = (total ?? 0) + call.costUsd;
  }
  return { byMessage, total };
}
