import { create } from "zustand";

export interface QueuedMessage {
  id: string;
  text: string;
}

interface ChatQueue {
  /** Messages written while a turn ran, per chat id, oldest first. Kept in memory only: a reload drops them. */
  queued: Record<string, QueuedMessage[]>;
  add(chatId: string, text: string): void;
  remove(chatId: string, id: string): void;
  /** Takes the oldest message off the chat's queue. */
  take(chatId: string): QueuedMessage | undefined;
}

let next = 0;

/**
 * What the user asked for while the agent was still answering. The oldest is sent when the turn ends,
 * however it ends (done, failed or stopped: a user who stops a turn with a message waiting usually stops
 * it to get to that message); each can be cancelled until then.
 */
export const useChatQueue = create<ChatQueue>()((set, get) => ({
  queued: {},
  add(chatId, text) {
    const list = get().queued[chatId] ?? [];
    set({ queued: { ...get().queued, [chatId]: [...list, { id: `q${++next}`, text }] } });
  },
  remove(chatId, id) {
    const list = (get().queued[chatId] ?? []).filter((m) => m.id !== id);
    set({ queued: { ...get().queued, [chatId]: list } });
  },
  take(chatId) {
    const [first, ...rest] = get().queued[chatId] ?? [];
    if (first) set({ queued: { ...get().queued, [chatId]: rest } });
    return first;
  },
}));
