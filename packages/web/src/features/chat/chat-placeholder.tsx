import { IconButton } from "../../ui/button.tsx";
import { ChatIcon, CloseIcon, SparkIcon } from "../../ui/icons.tsx";
import { useWorkspaceUi } from "../workspace/ui-store.ts";

/** Where the agent chat goes. Until its API lands, the panel says so instead of showing a dead input. */
export function ChatPlaceholder() {
  const set = useWorkspaceUi((s) => s.set);
  return (
    <section aria-label="Chat" className="flex h-full min-w-0 flex-col bg-surface-1">
      <div className="flex h-9 shrink-0 items-center gap-2 border-b border-line pr-1 pl-3">
        <ChatIcon className="size-3.5 text-neutral-500" />
        <span className="mr-auto text-[11px] font-semibold tracking-wider text-neutral-400 uppercase">
          Chat
        </span>
        <IconButton label="Hide chat" onClick={() => set({ chatOpen: false })}>
          <CloseIcon className="size-3.5" />
        </IconButton>
      </div>
      <div className="flex flex-1 flex-col items-center justify-center gap-3 px-6 text-center">
        <div className="flex size-10 items-center justify-center rounded-full bg-accent-500/12 text-accent-400">
          <SparkIcon />
        </div>
        <p className="text-sm font-medium text-neutral-200">The agent arrives soon</p>
        <p className="text-xs leading-relaxed text-neutral-500">
          You will describe what to build here and watch it write files and run commands. Until then, edit
          files yourself: changes show up in the preview as you save.
        </p>
      </div>
      <div className="border-t border-line p-3">
        <div
          aria-disabled="true"
          className="flex h-16 items-start rounded-md border border-line bg-surface-0 px-3 py-2 text-xs text-neutral-600"
        >
          Ask Kiln to build something…
        </div>
      </div>
    </section>
  );
}
