import type { Chat, ChatWithMessages, FileTree, PreviewError } from "@kiln/protocol";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useMemo, useState } from "react";
import { api } from "../../api/endpoints.ts";
import { keys } from "../../api/keys.ts";
import { useProject } from "../../state/project-context.tsx";
import { useWorkspaceUi } from "../../state/ui-store.ts";
import { Button, IconButton } from "../../ui/button.tsx";
import { ChevronDown, ChevronRight, CloseIcon, SparkIcon, WarningIcon } from "../../ui/icons.tsx";
import { NEW_CHAT, useChatUi } from "../chat/chat-store.ts";
import { useFileTree } from "../files/use-file-tree.ts";
import { useClearPreviewErrors, useFixPreviewErrors } from "./mutations.ts";

/** An error is news again when it happens again after being handed to the agent. */
const seenKey = (e: PreviewError) => `${e.id}@${e.lastAt}`;

/**
 * When the project's files last changed. An error last seen before that may be one the change fixed (the
 * agent's edits pass through broken states on the way), so only errors seen since count; one that is
 * still there shows up again with the next reload or rebuild.
 */
function lastChange(tree: FileTree | undefined): number {
  let latest = 0;
  for (const e of tree?.entries ?? []) {
    // The dev server's own caches (.kiln/) change without anyone fixing anything.
    if (e.type !== "file" || e.path === ".kiln" || e.path.startsWith(".kiln/")) continue;
    latest = Math.max(latest, Date.parse(e.mtime));
  }
  return latest;
}

const running = (c: Chat) => c.runningMessageId !== null;

/** After a turn ends, how long its errors get to go away (a reload, a rebuild) before a fix is offered. */
const SETTLE_MS = 4000;

/**
 * Whether the agent is working on the project, or just finished (for SETTLE_MS): its edits pass through
 * broken states, so errors seen meanwhile are held rather than offered for a fix the turn may make itself.
 */
function useTurnSettling(org: string, project: string): boolean {
  const chats = useQuery({
    queryKey: keys.chats(org, project),
    queryFn: () => api.chats.list(org, project),
    // Turns started elsewhere (another tab, the board) count too; one that runs is watched closely.
    refetchInterval: (q) => (q.state.data?.some(running) ? 3000 : 15_000),
  });
  const busy = (chats.data ?? []).some(running);
  const [settling, setSettling] = useState(false);
  const [wasBusy, setWasBusy] = useState(busy);
  if (busy !== wasBusy) {
    setWasBusy(busy);
    if (!busy) setSettling(true);
  }
  useEffect(() => {
    if (!settling) return;
    const timer = setTimeout(() => setSettling(false), SETTLE_MS);
    return () => clearTimeout(timer);
  }, [settling]);
  return busy || settling;
}

/**
 * Build and runtime errors the preview reported, over the bottom of the preview: the newest one, a list
 * of all, "Fix with agent" (a turn in the open chat, or a new chat while that one is busy) and dismiss.
 * Nothing shows while the agent works (see useTurnSettling); errors that outlive its turn show after.
 */
export function PreviewErrors() {
  const { org, project, canWrite } = useProject();
  const queryClient = useQueryClient();
  const [open, setOpen] = useState(false);
  const startFix = useFixPreviewErrors(org, project);
  const clear = useClearPreviewErrors(org, project);
  const [handed, setHanded] = useState<Set<string>>(() => new Set());
  const errors = useQuery({
    queryKey: keys.previewErrors(org, project),
    queryFn: () => api.previewErrors.list(org, project),
    refetchInterval: 3000,
  });
  const tree = useFileTree(org, project);
  const changedAt = lastChange(tree.data);
  const fresh = useMemo(
    () =>
      (errors.data?.errors ?? []).filter((e) => !handed.has(seenKey(e)) && Date.parse(e.lastAt) >= changedAt),
    [errors.data, handed, changedAt],
  );
  const held = useTurnSettling(org, project);
  if (fresh.length === 0 || held) return null;
  const newest = fresh[fresh.length - 1]!;

  const fix = () => {
    const key = `${org}/${project}`;
    const selected = useChatUi.getState().selected[key];
    const current =
      selected && selected !== NEW_CHAT
        ? queryClient.getQueryData<ChatWithMessages>(keys.chat(org, project, selected))
        : undefined;
    const reuse = current && !current.runningMessageId ? current.id : undefined;
    startFix.mutate(reuse, {
      onSuccess: (res) => {
        setHanded(new Set([...handed, ...fresh.map(seenKey)]));
        useChatUi.getState().select(key, res.chat.id);
        useChatUi.getState().requestFocus();
        useWorkspaceUi.getState().set({ chatOpen: true, pane: "chat" });
      },
    });
  };

  const dismiss = () => {
    setHanded(new Set([...handed, ...fresh.map(seenKey)]));
    if (canWrite) clear.mutate();
  };

  return (
    <div
      role="alert"
      aria-label="Preview errors"
      className="absolute inset-x-2 bottom-2 z-10 max-h-[60%] overflow-hidden rounded-md border border-red-500/40 bg-surface-1/97 text-xs shadow-2xl backdrop-blur"
    >
      <div className="flex items-center gap-2 px-2.5 py-2">
        <button
          type="button"
          aria-expanded={open}
          onClick={() => setOpen((o) => !o)}
          className="flex min-w-0 flex-1 items-center gap-2 text-left"
        >
          <WarningIcon className="size-3.5 shrink-0 text-red-400" />
          <span className="shrink-0 font-medium text-red-300">
            {fresh.length === 1 ? "1 error" : `${fresh.length} errors`}
          </span>
          <span className="min-w-0 flex-1 truncate font-mono text-neutral-300">{newest.message}</span>
          {open ? (
            <ChevronDown className="size-3 shrink-0 text-neutral-500" />
          ) : (
            <ChevronRight className="size-3 shrink-0 text-neutral-500" />
          )}
        </button>
        {canWrite && (
          <Button
            size="xs"
            variant="primary"
            icon={<SparkIcon className="size-3" />}
            loading={startFix.isPending}
            onClick={fix}
          >
            Fix with agent
          </Button>
        )}
        <IconButton label="Dismiss errors" className="size-6" onClick={dismiss}>
          <CloseIcon className="size-3" />
        </IconButton>
      </div>
      {open && (
        <ul className="max-h-64 overflow-y-auto border-t border-line">
          {[...fresh].reverse().map((e) => (
            <li key={e.id} className="border-b border-line/60 px-2.5 py-2 last:border-b-0">
              <p className="flex items-start gap-2">
                <span className="shrink-0 rounded bg-tint/6 px-1 text-[10px] text-neutral-400 uppercase">
                  {e.source === "server" ? "dev server" : e.kind}
                </span>
                <span className="min-w-0 flex-1 font-mono break-words text-neutral-200">{e.message}</span>
                {e.count > 1 && <span className="shrink-0 text-neutral-500">×{e.count}</span>}
              </p>
              {(e.detail || e.url) && (
                <pre className="mt-1 max-h-32 overflow-auto rounded bg-inset p-1.5 font-mono text-[10.5px] leading-snug whitespace-pre-wrap text-neutral-400">
                  {e.detail ?? `${e.url}${e.line !== null ? `:${e.line}:${e.column ?? 0}` : ""}`}
                </pre>
              )}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
