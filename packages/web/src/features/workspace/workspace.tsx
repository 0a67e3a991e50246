import { useEffect, useState } from "react";
import { Group, Panel, Separator, useDefaultLayout } from "react-resizable-panels";
import { useProject } from "../../state/project-context.tsx";
import { useWorkspaceUi } from "../../state/ui-store.ts";
import { cn } from "../../ui/cn.ts";
import { useNarrowScreen } from "../../ui/use-media-query.ts";
import { BoardView } from "../board/board-view.tsx";
import { ChatPanel } from "../chat/chat-panel.tsx";
import { useChatUi } from "../chat/chat-store.ts";
import { EditorPane } from "../editor/editor-pane.tsx";
import { saveFile, useLoadOpenFiles, useRemoteChanges } from "../editor/file-sync.ts";
import { isDirty, useEditor } from "../editor/store.ts";
import { useFileEvents } from "../files/file-events.ts";
import { FileTree } from "../files/file-tree.tsx";
import { QuickOpen } from "../files/quick-open.tsx";
import { useFileTree } from "../files/use-file-tree.ts";
import { PreviewPane } from "../preview/preview-pane.tsx";
import { BottomPanel } from "./bottom-panel.tsx";
import { PaneBar, PhonePanes } from "./phone-panes.tsx";
import { WorkspaceHeader } from "./workspace-header.tsx";

function Handle({ vertical }: { vertical?: boolean }) {
  return (
    <Separator
      className={cn(
        "relative shrink-0 bg-line transition-colors hover:bg-accent-500 data-[separator=active]:bg-accent-500",
        vertical ? "h-px" : "w-px",
      )}
    />
  );
}

/**
 * The project workspace: chat | files | editor over terminal | preview, every split resizable and
 * remembered; on a narrow screen one pane at a time with a tab bar below. Keyboard: Ctrl/Cmd-S saves,
 * Ctrl/Cmd-P opens a file by name, Ctrl-` toggles the terminal.
 */
export function Workspace({ view }: { view: "code" | "board" }) {
  const { org, project } = useProject();
  const ui = useWorkspaceUi();
  const narrow = useNarrowScreen();
  const [quickOpen, setQuickOpen] = useState(false);
  // Tabs belong to one project; opening another starts with none.
  useState(() => useEditor.getState().reset(`${org}/${project}`));

  useLoadOpenFiles(org, project);
  useFileEvents(org, project);
  const tree = useFileTree(org, project);
  useRemoteChanges(org, project, tree.data);

  // The chat box has the keyboard when a workspace opens; not on a touch screen, where that would cover
  // the page with the on-screen keyboard.
  useEffect(() => {
    if (!window.matchMedia("(pointer: coarse)").matches) useChatUi.getState().requestFocus();
  }, []);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const mod = e.ctrlKey || e.metaKey;
      if (mod && !e.shiftKey && e.key.toLowerCase() === "s") {
        e.preventDefault();
        const active = useEditor.getState().active;
        if (active) void saveFile(org, project, active);
      } else if (mod && !e.shiftKey && e.key.toLowerCase() === "p") {
        e.preventDefault();
        e.stopPropagation();
        setQuickOpen(true);
      } else if (e.ctrlKey && e.key === "`") {
        e.preventDefault();
        const s = useWorkspaceUi.getState();
        s.set({ bottomOpen: !s.bottomOpen, bottomTab: "terminal" });
      }
    };
    // Capture phase: the editor and the terminal would otherwise swallow these keys.
    window.addEventListener("keydown", onKey, true);
    return () => window.removeEventListener("keydown", onKey, true);
  }, [org, project]);

  // Closing the tab with unsaved edits asks first.
  useEffect(() => {
    const onBeforeUnload = (e: BeforeUnloadEvent) => {
      if (Object.values(useEditor.getState().files).some(isDirty)) e.preventDefault();
    };
    window.addEventListener("beforeunload", onBeforeUnload);
    return () => window.removeEventListener("beforeunload", onBeforeUnload);
  }, []);

  const outerIds = [
    ui.chatOpen && "chat",
    ui.filesOpen && "files",
    "center",
    ui.previewOpen && "preview",
  ].filter((x): x is string => !!x);
  const outer = useDefaultLayout({ id: "kiln-workspace", panelIds: outerIds, storage: localStorage });
  const centerIds = ["editor", ...(ui.bottomOpen ? ["bottom"] : [])];
  const center = useDefaultLayout({
    id: "kiln-workspace-center",
    panelIds: centerIds,
    storage: localStorage,
  });

  return (
    <div className="flex h-full min-h-0 flex-col overflow-hidden">
      <WorkspaceHeader view={view} />
      {view === "board" ? (
        <BoardView />
      ) : narrow ? (
        <PhonePanes />
      ) : (
        <Group
          orientation="horizontal"
          className="min-h-0 flex-1"
          defaultLayout={outer.defaultLayout}
          onLayoutChanged={outer.onLayoutChanged}
        >
          {ui.chatOpen && (
            <>
              <Panel id="chat" defaultSize="24%" minSize="260px" maxSize="45%">
                <ChatPanel />
              </Panel>
              <Handle />
            </>
          )}
          {ui.filesOpen && (
            <>
              <Panel id="files" defaultSize="14%" minSize="150px" maxSize="30%">
                <FileTree />
              </Panel>
              <Handle />
            </>
          )}
          <Panel id="center" defaultSize="36%" minSize="240px">
            <Group
              orientation="vertical"
              defaultLayout={center.defaultLayout}
              onLayoutChanged={center.onLayoutChanged}
            >
              <Panel id="editor" defaultSize="65%" minSize="120px">
                <EditorPane />
              </Panel>
              {ui.bottomOpen && (
                <>
                  <Handle vertical />
                  <Panel id="bottom" defaultSize="35%" minSize="100px">
                    <BottomPanel />
                  </Panel>
                </>
              )}
            </Group>
          </Panel>
          {ui.previewOpen && (
            <>
              <Handle />
              <Panel id="preview" defaultSize="32%" minSize="240px">
                <PreviewPane />
              </Panel>
            </>
          )}
        </Group>
      )}
      {narrow && <PaneBar view={view} />}
      <QuickOpen open={quickOpen} onClose={() => setQuickOpen(false)} />
    </div>
  );
}
