import { useWorkspaceUi } from "../../state/ui-store.ts";
import { IconButton } from "../../ui/button.tsx";
import { cn } from "../../ui/cn.ts";
import { ChatIcon, CloseIcon, HistoryIcon } from "../../ui/icons.tsx";
import { Tabs } from "../../ui/tabs.tsx";
import { HistoryPanel } from "../history/history-panel.tsx";
import { useChatUi } from "./chat-store.ts";
import { ChatView } from "./chat-view.tsx";

/**
 * The workspace's left column: the agent chat and the project's history. The chat stays mounted while
 * the history shows, so a running turn keeps streaming. On a phone it is a whole pane, not one to hide.
 */
export function ChatPanel({ hideable = true }: { hideable?: boolean }) {
  const tab = useChatUi((s) => s.tab);
  const setTab = useChatUi((s) => s.setTab);
  const setUi = useWorkspaceUi((s) => s.set);
  return (
    <section aria-label="Chat" className="flex h-full min-w-0 flex-col bg-surface-1">
      <Tabs
        label="Chat panel"
        active={tab}
        onChange={setTab}
        tabs={[
          {
            id: "chat",
            label: (
              <>
                <ChatIcon className="size-3.5" /> Chat
              </>
            ),
          },
          {
            id: "history",
            label: (
              <>
                <HistoryIcon className="size-3.5" /> History
              </>
            ),
          },
        ]}
        trailing={
          hideable && (
            <IconButton label="Hide chat" onClick={() => setUi({ chatOpen: false })}>
              <CloseIcon className="size-3.5" />
            </IconButton>
          )
        }
      />
      <div className={cn("flex min-h-0 flex-1 flex-col", tab !== "chat" && "hidden")}>
        <ChatView />
      </div>
      {tab === "history" && <HistoryPanel />}
    </section>
  );
}
