import { useNavigate } from "@tanstack/react-router";
import type { ReactNode } from "react";
import { useProject } from "../../state/project-context.tsx";
import { type PhonePane, useWorkspaceUi } from "../../state/ui-store.ts";
import { cn } from "../../ui/cn.ts";
import { ChatIcon, CodeIcon, GridIcon, MonitorIcon } from "../../ui/icons.tsx";
import { ChatPanel } from "../chat/chat-panel.tsx";
import { EditorPane } from "../editor/editor-pane.tsx";
import { FileTree } from "../files/file-tree.tsx";
import { PreviewPane } from "../preview/preview-pane.tsx";

/**
 * The code view on a narrow screen: one pane at a time. All three stay mounted, so a running turn keeps
 * streaming and the preview keeps its page while another pane shows.
 */
export function PhonePanes() {
  const pane = useWorkspaceUi((s) => s.pane);
  const shown = (p: PhonePane) => cn("min-h-0 flex-1 flex-col", pane === p ? "flex" : "hidden");
  return (
    <div className="flex min-h-0 flex-1 flex-col">
      <div className={shown("chat")}>
        <ChatPanel hideable={false} />
      </div>
      <div className={shown("code")}>
        <div className="h-2/5 min-h-0 shrink-0 border-b border-line">
          <FileTree />
        </div>
        <div className="min-h-0 flex-1">
          <EditorPane />
        </div>
      </div>
      <div className={shown("preview")}>
        <PreviewPane />
      </div>
    </div>
  );
}

/** The tab bar at the bottom of a narrow screen: Chat, Code, Preview and the Board. */
export function PaneBar({ view }: { view: "code" | "board" }) {
  const { org, project } = useProject();
  const pane = useWorkspaceUi((s) => s.pane);
  const set = useWorkspaceUi((s) => s.set);
  const navigate = useNavigate();
  const show = (p: PhonePane) => {
    set({ pane: p });
    if (view === "board") void navigate({ to: "/$org/$project", params: { org, project }, search: {} });
  };
  return (
    <nav
      aria-label="Workspace panes"
      className="flex h-14 shrink-0 items-stretch border-t border-line bg-surface-1 pb-[env(safe-area-inset-bottom)]"
    >
      <PaneButton
        active={view === "code" && pane === "chat"}
        onClick={() => show("chat")}
        icon={<ChatIcon />}
      >
        Chat
      </PaneButton>
      <PaneButton
        active={view === "code" && pane === "code"}
        onClick={() => show("code")}
        icon={<CodeIcon />}
      >
        Code
      </PaneButton>
      <PaneButton
        active={view === "code" && pane === "preview"}
        onClick={() => show("preview")}
        icon={<MonitorIcon />}
      >
        Preview
      </PaneButton>
      <PaneButton
        active={view === "board"}
        onClick={() =>
          void navigate({ to: "/$org/$project", params: { org, project }, search: { view: "board" } })
        }
        icon={<GridIcon />}
      >
        Board
      </PaneButton>
    </nav>
  );
}

function PaneButton({
  active,
  onClick,
  icon,
  children,
}: {
  active: boolean;
  onClick: () => void;
  icon: ReactNode;
  children: ReactNode;
}) {
  return (
    <button
      type="button"
      aria-current={active ? "page" : undefined}
      onClick={onClick}
      className={cn(
        "flex flex-1 flex-col items-center justify-center gap-0.5 text-[11px] font-medium transition-colors",
        active ? "text-accent-400" : "text-neutral-500 hover:text-neutral-200",
      )}
    >
      <span className="[&_svg]:size-4.5">{icon}</span>
      {children}
    </button>
  );
}
