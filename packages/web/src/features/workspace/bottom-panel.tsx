import { lazy, Suspense, useState } from "react";
import { useProject } from "../../state/project-context.tsx";
import { useWorkspaceUi } from "../../state/ui-store.ts";
import { Button, IconButton } from "../../ui/button.tsx";
import { cn } from "../../ui/cn.ts";
import { CloseIcon, LogsIcon, TerminalIcon } from "../../ui/icons.tsx";
import { LoadingBlock } from "../../ui/spinner.tsx";
import { Tabs } from "../../ui/tabs.tsx";
import { LogsView } from "../logs/logs-view.tsx";
import { useLogStream } from "../logs/use-log-stream.ts";
import type { ConnectionState } from "../terminal/connection.ts";

const TerminalView = lazy(() => import("../terminal/terminal-view.tsx"));

const STATE_LABEL: Record<ConnectionState, string> = {
  connecting: "Connecting…",
  open: "Connected",
  reconnecting: "Reconnecting…",
  exited: "Exited",
  failed: "Disconnected",
};

/** Terminal and dev-server logs under the editor. Both stay mounted while the panel is open. */
export function BottomPanel() {
  const { org, project, canWrite } = useProject();
  const tab = useWorkspaceUi((s) => s.bottomTab);
  const set = useWorkspaceUi((s) => s.set);
  const [term, setTerm] = useState<{ state: ConnectionState; detail?: string | undefined }>({
    state: "connecting",
  });
  const [terminalKey, setTerminalKey] = useState(0);
  const logs = useLogStream(org, project, true);

  return (
    <section aria-label="Terminal and logs" className="flex h-full min-h-0 flex-col bg-console">
      <Tabs
        label="Bottom panel"
        active={tab}
        onChange={(t) => set({ bottomTab: t })}
        tabs={[
          {
            id: "terminal",
            label: (
              <>
                <TerminalIcon className="size-3.5" /> Terminal
              </>
            ),
          },
          {
            id: "logs",
            label: (
              <>
                <LogsIcon className="size-3.5" /> Dev server logs
              </>
            ),
            badge:
              logs.state === "reconnecting" ? (
                <span className="size-1.5 rounded-full bg-amber-400" />
              ) : undefined,
          },
        ]}
        trailing={
          <>
            {tab === "terminal" && canWrite && (
              <>
                <span
                  className={cn(
                    "mr-2 text-[11px]",
                    term.state === "open"
                      ? "text-neutral-500"
                      : term.state === "failed"
                        ? "text-red-400"
                        : "text-amber-400",
                  )}
                  title={term.detail}
                >
                  {STATE_LABEL[term.state]}
                </span>
                {(term.state === "failed" || term.state === "exited") && (
                  <Button size="xs" variant="ghost" onClick={() => setTerminalKey((k) => k + 1)}>
                    New shell
                  </Button>
                )}
              </>
            )}
            {tab === "logs" && (
              <Button size="xs" variant="ghost" onClick={logs.clear}>
                Clear
              </Button>
            )}
            <IconButton label="Close panel" onClick={() => set({ bottomOpen: false })}>
              <CloseIcon className="size-3.5" />
            </IconButton>
          </>
        }
        className="bg-surface-1"
      />
      <div className="relative min-h-0 flex-1">
        <div className={cn("absolute inset-0", tab !== "terminal" && "invisible")}>
          {canWrite ? (
            <Suspense fallback={<LoadingBlock label="Loading the terminal" />}>
              <TerminalView
                key={terminalKey}
                org={org}
                project={project}
                onState={(state, detail) => setTerm({ state, detail })}
              />
            </Suspense>
          ) : (
            <p className="p-4 text-xs text-neutral-500">Your role cannot run commands in this project.</p>
          )}
        </div>
        <div className={cn("absolute inset-0", tab !== "logs" && "invisible")}>
          <LogsView lines={logs.lines} />
        </div>
      </div>
    </section>
  );
}
