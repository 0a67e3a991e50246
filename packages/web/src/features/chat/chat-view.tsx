import { type ApprovalMode, addUsage, type Chat, type Usage, ZERO_USAGE } from "@kiln/protocol";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Link } from "@tanstack/react-router";
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from "react";
import { api } from "../../api/endpoints.ts";
import { describeError } from "../../api/errors.ts";
import { agentsQuery, modelsQuery } from "../../api/queries.ts";
import { succeeds } from "../../api/query-client.ts";
import { clearPicked, withPickedContext } from "../../state/element-selection.ts";
import { useProject } from "../../state/project-context.tsx";
import { IconButton } from "../../ui/button.tsx";
import { confirmDialog } from "../../ui/confirm.tsx";
import { ChevronDown, HistoryIcon, MoreIcon, PlusIcon, SparkIcon } from "../../ui/icons.tsx";
import { Menu } from "../../ui/menu.tsx";
import { LoadingBlock } from "../../ui/spinner.tsx";
import { ErrorState } from "../../ui/states.tsx";
import { useRestoreActions } from "../history/restore.ts";
import { relativeTime } from "../projects/time.ts";
import { AgentPicker } from "./agent-picker.tsx";
import { NEW_CHAT, useChatUi } from "./chat-store.ts";
import { Composer } from "./composer.tsx";
import { ElementChip } from "./element-chip.tsx";
import { runningMessage } from "./fold.ts";
import { compact, formatCost, MessageList } from "./message-list.tsx";
import {
  useCancelRun,
  useCreateChat,
  useDecideApproval,
  useRemoveChat,
  useResumeTurn,
  useSendMessage,
  useUpdateChat,
} from "./mutations.ts";
import { chatCostsQuery, chatQuery, chatsQuery } from "./queries.ts";
import { type QueuedMessage, useChatQueue } from "./queue-store.ts";
import { QueuedList } from "./queued-list.tsx";
import { useRunFollower } from "./use-run-follower.ts";

const NOTHING_QUEUED: QueuedMessage[] = [];

const SUGGESTIONS = [
  "Add a dark mode toggle to the header",
  "Make a todo list with add, complete and delete",
  "Explain how this project is put together",
];

/** The chat the user has open, or the most recent one; `null` while a new one is being written. */
function useOpenChatId(org: string, project: string, chats: Chat[] | undefined): string | null {
  const queryClient = useQueryClient();
  const selected = useChatUi((s) => s.selected[`${org}/${project}`]);
  if (selected === NEW_CHAT) return null;
  if (selected) {
    const listed = !chats || chats.some((c) => c.id === selected);
    // Created a moment ago: in the cache before the list has caught up.
    if (listed || queryClient.getQueryData(chatQuery(org, project, selected).queryKey)) return selected;
  }
  return chats?.[0]?.id ?? null;
}

/** One chat: its messages as they stream, what each turn cost, and the composer. */
export function ChatView() {
  const { org, project, canWrite } = useProject();
  const projectKey = `${org}/${project}`;
  const select = useChatUi((s) => s.select);
  const setTab = useChatUi((s) => s.setTab);
  const focusRequest = useChatUi((s) => s.focusRequest);
  const chats = useQuery(chatsQuery(org, project));
  const chatId = useOpenChatId(org, project, chats.data);
  const chat = useQuery({ ...chatQuery(org, project, chatId ?? ""), enabled: !!chatId });
  const costs = useQuery({ ...chatCostsQuery(org, chatId ?? ""), enabled: !!chatId });
  const models = useQuery(modelsQuery(org));
  const agents = useQuery(agentsQuery(org));
  const running = runningMessage(chat.data);
  const stream = useRunFollower(org, project, chatId, running?.id);
  const createChat = useCreateChat(org, project);
  const sendMessage = useSendMessage(org, project);
  const resumeTurn = useResumeTurn(org, project);
  const cancelRun = useCancelRun(org, project);
  const decide = useDecideApproval(org, project);
  const updateChat = useUpdateChat(org, project);
  const removeChatMutation = useRemoveChat(org, project);
  const restore = useRestoreActions(org, project);
  const [draft, setDraft] = useState("");
  const [newChat, setNewChat] = useState<{
    mode: ApprovalMode;
    model: string | null;
    agentId: string | null;
  }>({
    mode: "allow",
    model: null,
    agentId: null,
  });

  const scroller = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  // biome-ignore lint/correctness/useExhaustiveDependencies: a new chat starts at its end
  useLayoutEffect(() => {
    stick.current = true;
  }, [chatId]);
  // Follows the newest text while the reader is at the end; leaves them alone once they scroll up.
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs whenever the messages change
  useLayoutEffect(() => {
    const el = scroller.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  }, [chat.data?.messages]);

  const messages = chat.data?.messages ?? [];
  const totals = useMemo(
    () => messages.reduce<Usage>((sum, m) => addUsage(sum, m.usage ?? undefined), ZERO_USAGE),
    [messages],
  );
  const mode = chat.data?.mode ?? newChat.mode;
  const model = chat.data ? chat.data.model : newChat.model;
  const noModel = models.data && models.data.models.length === 0 && !models.data.defaultModel;

  const send = async (text: string, images: readonly File[] = []): Promise<boolean> => {
    let target: Chat | undefined = chat.data;
    if (!target) {
      try {
        target = await createChat.mutateAsync(newChat);
      } catch {
        return false;
      }
      select(projectKey, target.id);
    }
    stick.current = true;
    const content = withPickedContext(projectKey, text);
    const ok = await succeeds(sendMessage.mutateAsync({ chat: target, content, mode, images }));
    if (ok && content !== text) clearPicked(projectKey);
    return ok;
  };

  const queued = useChatQueue((s) => (chatId ? s.queued[chatId] : undefined)) ?? NOTHING_QUEUED;
  const queue = useChatQueue();
  const sendingQueued = useRef(false);
  // The oldest queued message goes out once the turn has ended (the chat as loaded says so), one per turn.
  // biome-ignore lint/correctness/useExhaustiveDependencies: `send` reads the same chat and mode
  useEffect(() => {
    if (!chatId || !chat.data || running || sendingQueued.current || queued.length === 0) return;
    const next = queue.take(chatId);
    if (!next) return;
    sendingQueued.current = true;
    void send(next.text)
      .then((ok) => {
        // Not sent (the toast says why): back to the composer rather than lost.
        if (!ok) setDraft((d) => (d.trim() ? `${d}\n${next.text}` : next.text));
      })
      .finally(() => {
        sendingQueued.current = false;
      });
  }, [chatId, chat.data, running, queued]);

  const removeChat = async () => {
    if (!chat.data) return;
    const ok = await confirmDialog({
      title: `Delete “${chat.data.title}”?`,
      description: "The conversation is removed. Files and checkpoints the agent made stay.",
      confirmLabel: "Delete chat",
      danger: true,
    });
    if (ok) removeChatMutation.mutate(chat.data.id, { onSuccess: () => select(projectKey, null) });
  };

  return (
    // biome-ignore lint/a11y/noStaticElementInteractions: Escape anywhere in the chat stops the agent
    <div
      className="flex min-h-0 flex-1 flex-col"
      onKeyDown={(e) => {
        if (e.key === "Escape" && running && chatId && !e.defaultPrevented) {
          e.preventDefault();
          cancelRun.mutate(chatId);
        }
      }}
    >
      <div className="flex h-9 shrink-0 items-center gap-1 border-b border-line pr-1 pl-1.5">
        <Menu
          label="Chats"
          className="min-w-0 flex-1"
          items={[
            { heading: "Chats" },
            ...(chats.data ?? []).map((c) => ({
              label: c.title,
              hint: c.runningMessageId ? "working…" : relativeTime(c.updatedAt),
              onSelect: () => select(projectKey, c.id),
            })),
            ...(chats.data?.length ? ["separator" as const] : []),
            {
              label: "New chat",
              icon: <PlusIcon className="size-3.5" />,
              onSelect: () => select(projectKey, NEW_CHAT),
            },
          ]}
          trigger={(props) => (
            <button
              type="button"
              {...props}
              aria-label="Switch chat"
              className="flex h-7 max-w-full min-w-0 items-center gap-1 rounded px-1.5 text-[13px] font-medium text-neutral-200 hover:bg-tint/6"
            >
              <span className="truncate">{chat.data?.title ?? "New chat"}</span>
              <ChevronDown className="size-3 shrink-0 text-neutral-500" />
            </button>
          )}
        />
        {stream === "reconnecting" && (
          <span className="shrink-0 text-[11px] text-amber-400">Reconnecting…</span>
        )}
        {totals.inputTokens + totals.outputTokens > 0 && (
          <span
            data-testid="chat-usage"
            className="shrink-0 text-[11px] text-neutral-500"
            title={`${totals.inputTokens} input and ${totals.outputTokens} output tokens in this chat`}
          >
            {compact(totals.inputTokens + totals.outputTokens)} tok
            {costs.data?.total != null && ` · ${formatCost(costs.data.total)}`}
          </span>
        )}
        <AgentPicker
          org={org}
          agentId={chat.data ? chat.data.agentId : newChat.agentId}
          version={chat.data ? chat.data.agentVersion : null}
          disabled={!canWrite}
          onPick={(agent) =>
            chatId
              ? updateChat.mutate({ chatId, body: { agentId: agent.id } })
              : // A new chat starts in the agent's default mode, which the mode selector then shows.
                setNewChat((s) => ({ ...s, agentId: agent.id, mode: agent.defaultMode ?? s.mode }))
          }
        />
        {canWrite && (
          <IconButton label="New chat" onClick={() => select(projectKey, NEW_CHAT)}>
            <PlusIcon className="size-3.5" />
          </IconButton>
        )}
        <Menu
          label="Chat actions"
          align="end"
          items={[
            {
              label: "Project history",
              icon: <HistoryIcon className="size-3.5" />,
              onSelect: () => setTab("history"),
            },
            ...(chat.data && canWrite
              ? [{ label: "Delete chat", danger: true, onSelect: () => void removeChat() }]
              : []),
          ]}
          trigger={(props) => (
            <IconButton label="More chat actions" {...props}>
              <MoreIcon className="size-3.5" />
            </IconButton>
          )}
        />
      </div>
      <div
        ref={scroller}
        className="min-h-0 flex-1 overflow-y-auto"
        onScroll={(e) => {
          const el = e.currentTarget;
          stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 48;
        }}
      >
        {chats.isPending || (chatId && chat.isPending) ? (
          <LoadingBlock label="Loading the chat" />
        ) : chat.isError ? (
          <ErrorState message={describeError(chat.error)} onRetry={() => chat.refetch()} />
        ) : messages.length === 0 ? (
          <Welcome canWrite={canWrite} onPick={setDraft} />
        ) : (
          <MessageList
            messages={messages}
            imageUrl={(chatOf, imageId) => api.chats.imageUrl(org, project, chatOf, imageId)}
            costs={costs.data?.byMessage}
            agentLabel={(id, version) => {
              const a = agents.data?.find((x) => x.id === id);
              if (a) return `${a.icon} ${a.name} v${version}`;
              // Not listed once archived (its versions still ran here).
              return agents.data ? `Archived agent v${version}` : `Agent v${version}`;
            }}
            actions={
              canWrite && chatId
                ? {
                    onDecide: (toolCallId, decision) => decide.mutate({ chatId, toolCallId, decision }),
                    onUndo: (messageId) => restore.undoTurn(messageId),
                    onResume: (messageId) =>
                      succeeds(resumeTurn.mutateAsync({ chat: chat.data!, messageId })),
                  }
                : {}
            }
          />
        )}
        {chatId && <QueuedList messages={queued} onCancel={(id) => queue.remove(chatId, id)} />}
      </div>
      {noModel && (
        <p className="border-t border-line bg-amber-500/5 px-3 py-2 text-xs text-amber-200/90">
          No model is set up yet.{" "}
          <Link to="/$org/settings" params={{ org }} search={{ tab: "models" }} className="underline">
            Add a model provider
          </Link>{" "}
          to talk to the agent.
        </p>
      )}
      <Composer
        running={!!running}
        disabled={!canWrite || !!noModel}
        disabledReason={canWrite ? undefined : "Your role can read this chat but not write in it."}
        mode={mode}
        approveAll={chat.data?.approveAll ?? false}
        model={model}
        models={models.data}
        focusRequest={focusRequest}
        draft={draft}
        onDraft={setDraft}
        onSend={send}
        context={<ElementChip projectKey={projectKey} />}
        onQueue={(text) => chatId && queue.add(chatId, text)}
        onCancel={() => chatId && cancelRun.mutate(chatId)}
        onMode={(m) =>
          chatId
            ? updateChat.mutate({ chatId, body: { mode: m, approveAll: false } })
            : setNewChat((s) => ({ ...s, mode: m }))
        }
        onModel={(m) =>
          chatId ? updateChat.mutate({ chatId, body: { model: m } }) : setNewChat((s) => ({ ...s, model: m }))
        }
      />
    </div>
  );
}

function Welcome({ canWrite, onPick }: { canWrite: boolean; onPick: (text: string) => void }) {
  return (
    <div className="flex h-full flex-col items-center justify-center gap-3 px-6 py-8 text-center">
      <div className="flex size-10 items-center justify-center rounded-full bg-accent-500/12 text-accent-400">
        <SparkIcon />
      </div>
      <p className="text-sm font-medium text-neutral-200">What should we build?</p>
      <p className="text-xs leading-relaxed text-neutral-500">
        Describe a change and watch the agent edit files and run commands. Every turn is a checkpoint you can
        undo.
      </p>
      {canWrite && (
        <ul className="mt-1 flex w-full flex-col gap-1.5">
          {SUGGESTIONS.map((s) => (
            <li key={s}>
              <button
                type="button"
                onClick={() => onPick(s)}
                className="w-full rounded-md border border-line px-3 py-1.5 text-left text-xs text-neutral-400 hover:border-neutral-600 hover:text-neutral-200"
              >
                {s}
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
