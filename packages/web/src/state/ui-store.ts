import { create } from "zustand";
import { persist } from "zustand/middleware";

export type BottomTab = "terminal" | "logs";
export type Device = "desktop" | "tablet" | "mobile";
/** The one pane a narrow screen shows of the code view (the board is the other view). */
export type PhonePane = "chat" | "code" | "preview";

interface WorkspaceUi {
  chatOpen: boolean;
  filesOpen: boolean;
  bottomOpen: boolean;
  previewOpen: boolean;
  bottomTab: BottomTab;
  device: Device;
  pane: PhonePane;
  quickOpen: boolean;
  set(patch: Partial<Omit<WorkspaceUi, "set">>): void;
}

/**
 * How the workspace is laid out. Which panels are open, the device width and the bottom tab survive a reload;
 * a phone's pane does not: a workspace opens on its chat.
 */
export const useWorkspaceUi = create<WorkspaceUi>()(
  persist(
    (set) => ({
      chatOpen: true,
      filesOpen: true,
      bottomOpen: false,
      previewOpen: true,
      bottomTab: "terminal",
      device: "desktop",
      pane: "chat",
      quickOpen: false,
      set: (patch) => set(patch),
    }),
    {
      name: "kiln.workspace-ui",
      partialize: ({ chatOpen, filesOpen, bottomOpen, previewOpen, bottomTab, device }) => ({
        chatOpen,
        filesOpen,
        bottomOpen,
        previewOpen,
        bottomTab,
        device,
      }),
    },
  ),
);
