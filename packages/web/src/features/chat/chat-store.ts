import { create } from "zustand";
import { persist } from "zustand/middleware";

export type ChatPanelTab = "chat" | "history";

/** Selected instead of a chat id while the user writes the first message of a chat not yet created. */
export const NEW_CHAT = "new";

interface ChatUi {
  /** The open chat per `org/project`; absent: the most recent one. */
  selected: Record<string, string>;
  tab: ChatPanelTab;
  /** Bumped to ask the composer to take the keyboard focus (a workspace opened, "Fix with agent"). */
  focusRequest: number;
  select(projectKey: string, chatId: string | null): void;
  setTab(tab: ChatPanelTab): void;
  requestFocus(): void;
}

/** Which chat is open in each project and which tab the chat panel shows; kept across reloads. */
export const useChatUi = create<ChatUi>()(
  persist(
    (set, get) => ({
      selected: {},
      tab: "chat",
      focusRequest: 0,
      select(projectKey, chatId) {
        const selected = { ...get().selected };
        if (chatId) selected[projectKey] = chatId;
        else delete selected[projectKey];
        set({ selected });
      },
      setTab: (tab) => set({ tab }),
      requestFocus: () => set({ tab: "chat", focusRequest: get().focusRequest + 1 }),
    }),
    {
      name: "kiln.chat-ui",
      partialize: ({ selected, tab }) => ({ selected, tab }),
    },
  ),
);
