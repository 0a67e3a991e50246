import { create } from "zustand";
import { persist } from "zustand/middleware";

export type BottomTab = "terminal" | "logs";
export type Device = "desktop" | "tablet" | "mobile";

interface WorkspaceUi {
  chatOpen: boolean;
  filesOpen: boolean;
  bottomOpen: boolean;
  previewOpen: boolean;
  bottomTab: BottomTab;
  device: Device;
  quickOpen: boolean;
  set(patch: Partial<Omit<WorkspaceUi, "set">>): void;
}

/** Layout choices that should survive a reload: which panels are open, the device width, the bottom tab. */
export const useWorkspaceUi = create<WorkspaceUi>()(
  persist(
    (set) => ({
      chatOpen: true,
      filesOpen: true,
      bottomOpen: false,
      previewOpen: true,
      bottomTab: "terminal",
      device: "desktop",
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
