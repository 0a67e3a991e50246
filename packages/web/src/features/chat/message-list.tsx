import {
  type ApprovalDecision,
  type ChatMessage,
  type MessagePart,
  splitElementContext,
  type Usage,
} from "@kiln/protocol";
import { useState } from "react";
import Markdown from "react-markdown";
import { Button } from "../../ui/button.tsx";
import { cn } from "../../ui/cn.ts";
import { Spinner } from "../../ui/spinner.tsx";
import { ToolCard } from "./tool-card.tsx";

export interface MessageActions {
  onDecide?: (toolCallId: string, decision: ApprovalDecision) => void;
  onUndo?: (messageId: string) => Promise<unknown>;
  onResume?: (messageId: string) => Promise<unknown>;
}

const RESUMABLE = new Set(["interrupted", "failed", "cancelled"]);

/** Messages as the chat shows them: markdown text, collapsible reasoning, tool cards, usage per turn. */
export function MessageList({
  messages,
  costs,
  actions,
  agentLabel,
  imageUrl,
}: {
  messages: ChatMessage[];
  /** Where an attached image of a chat is read from (ADR 0041). */
  imageUrl?: (chatId: string, imageId: string) => string;
  costs: Map<string, number | null> | undefined;
  actions: MessageActions;
  /** What to call the agent version an answer ran (ADR 0035). */
  agentLabel?: (agentId: string, version: number) => string;
}) {
  const last = messages[messages.length - 1];
  // Which agent answered is said once the chat has run more than one (or more than one version of one).
  const ran = new Set(messages.filter((m) => m.agentId).map((m) => `${m.agentId}@${m.agentVersion}`));
  const label = ran.size > 1 ? agentLabel : undefined;
  return (
    <ol className="flex flex-col gap-4 px-3 py-4">
      {messages.map((m) => (
        <li
          key={m.id}
          data-message-id={m.id}
          data-role={m.role}
          data-status={m.status}
          className={cn("flex min-w-0 flex-col gap-2", m.role === "user" && "items-end")}
        >
          {m.role === "user" ? (
            <>
              {imageUrl && m.parts.some((p) => p.type === "image") && (
                <div className="flex max-w-[85%] flex-wrap justify-end gap-1.5">
                  {m.parts.map((p) =>
                    p.type === "image" ? (
                      <a
                        key={p.imageId}
                        href={imageUrl(m.chatId, p.imageId)}
                        target="_blank"
                        rel="noopener noreferrer"
                        className="block overflow-hidden rounded-md border border-line"
                      >
                        <img
                          src={imageUrl(m.chatId, p.imageId)}
                          alt="Attached"
                          className="block h-24 max-w-48 object-cover"
                        />
                      </a>
                    ) : null,
                  )}
                </div>
              )}
              <UserMessage text={m.parts.map((p) => (p.type === "text" ? p.text : "")).join("")} />
            </>
          ) : (
            <AssistantMessage
              message={m}
              cost={costs?.get(m.id)}
              isLast={m === last}
              actions={actions}
              agent={label && m.agentId && m.agentVersion ? label(m.agentId, m.agentVersion) : undefined}
            />
          )}
        </li>
      ))}
    </ol>
  );
}

function AssistantMessage({
  message,
  cost,
  isLast,
  actions,
  agent,
}: {
  message: ChatMessage;
  cost: number | null | undefined;
  isLast: boolean;
  actions: MessageActions;
  agent: string | undefined;
}) {
  const running = message.status === "running";
  const waiting = running && !message.parts.some((p) => p.type === "text" || p.type === "tool");
  return (
    <>
      {message.parts.map((p, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: parts only ever grow at the end
        <PartView key={i} part={p} onDecide={actions.onDecide} running={running} />
      ))}
      {waiting && (
        <div className="flex items-center gap-2 text-xs text-neutral-500">
          <Spinner className="[&_svg]:size-3" label="Working" /> Thinking…
        </div>
      )}
      <Footer message={message} cost={cost} isLast={isLast} actions={actions} agent={agent} />
    </>
  );
}

export function PartView({
  part,
  onDecide,
  running = false,
}: {
  part: MessagePart;
  onDecide: ((toolCallId: string, decision: ApprovalDecision) => void) | undefined;
  /** The turn is still going: a retry line is a wait now, not one that was. */
  running?: boolean;
}) {
  switch (part.type) {
    case "text":
      return (
        <div className="prose-kiln min-w-0 text-[13px] leading-relaxed break-words text-neutral-200">
          <Markdown>{part.text}</Markdown>
        </div>
      );
    case "reasoning":
      return <Reasoning text={part.text} />;
    case "tool":
      return <ToolCard part={part} {...(onDecide ? { onDecide } : {})} />;
    case "compaction":
      return (
        <p className="text-center text-[11px] text-neutral-500">
          Earlier messages were summarised to save context.
        </p>
      );
    case "error":
      return (
        <p
          role="alert"
          className="rounded-md border border-red-500/30 bg-red-500/10 px-2.5 py-1.5 text-xs text-red-300"
        >
          {part.message} <span className="font-mono text-red-400/60">({part.code})</span>
        </p>
      );
    case "image":
      // Shown with the person's message (MessageList), never among an answer's parts.
      return null;
    case "retry":
      return (
        <p role="status" className="text-xs text-amber-300/90" title={part.message}>
          {running ? "Waiting" : "Waited"} for{" "}
          {part.code === "database_unavailable" ? "the database" : "the provider"}, retry {part.retry}/
          {part.maxRetries} {running ? "in" : "after"} {Math.ceil(part.waitMs / 1000)} s{" "}
          <span className="text-neutral-500">({part.message})</span>
        </p>
      );
  }
}

function Reasoning({ text }: { text: string }) {
  const [open, setOpen] = useState(false);
  return (
    <div className="text-xs text-neutral-500">
      <button
        type="button"
        aria-expanded={open}
        onClick={() => setOpen((o) => !o)}
        className="hover:text-neutral-300"
      >
        {open ? "Hide thinking" : "Show thinking"}
      </button>
      {open && <p className="mt-1 border-l border-line pl-2 whitespace-pre-wrap">{text}</p>}
    </div>
  );
}

export function formatTokens(usage: Usage): string {
  return `${compact(usage.inputTokens)} in · ${compact(usage.outputTokens)} out`;
}

export function compact(n: number): string {
  if (n >= 1_000_000) return `${(n / 1_000_000).toFixed(1)}M`;
  return n >= 1000 ? `${(n / 1000).toFixed(1)}k` : String(n);
}

export function formatCost(usd: number): string {
  if (usd === 0) return "$0";
  return `$${usd.toFixed(usd < 0.01 ? 4 : 2)}`;
}

const STOPPED: Record<string, string> = {
  cancelled: "Stopped",
  interrupted: "Interrupted",
  failed: "Failed",
};

/** Status, model, tokens and cost of a turn, with what can be done about it: undo or resume. */
function Footer({
  message,
  cost,
  isLast,
  actions,
  agent,
}: {
  message: ChatMessage;
  cost: number | null | undefined;
  isLast: boolean;
  actions: MessageActions;
  agent: string | undefined;
}) {
  const [busy, setBusy] = useState<"undo" | "resume">();
  const run = async (kind: "undo" | "resume", action: (id: string) => Promise<unknown>) => {
    setBusy(kind);
    try {
      await action(message.id);
    } finally {
      setBusy(undefined);
    }
  };
  const stopped = STOPPED[message.status];
  const canUndo = !!message.checkpointSha && message.status !== "running" && actions.onUndo;
  const canResume = isLast && RESUMABLE.has(message.status) && actions.onResume;
  return (
    <div className="flex min-h-6 flex-wrap items-center gap-x-2 gap-y-1 text-[11px] text-neutral-600">
      {stopped && (
        <span className="text-amber-300/80" title={message.detail ?? undefined}>
          {stopped}
          {message.detail
            ? `: ${message.detail}`
            : message.reason && message.reason !== "cancelled"
              ? ` (${message.reason.replaceAll("_", " ")})`
              : ""}
        </span>
      )}
      {message.usage && (
        <span data-testid="message-usage">
          {formatTokens(message.usage)}
          {cost !== undefined && cost !== null && ` · ${formatCost(cost)}`}
        </span>
      )}
      {agent && (
        <span data-testid="message-agent" className="truncate text-neutral-500">
          {agent}
        </span>
      )}
      {message.model && <span className="truncate font-mono text-neutral-700">{message.model}</span>}
      <span className="ml-auto flex items-center gap-1">
        {canResume && (
          <Button
            size="xs"
            variant="secondary"
            loading={busy === "resume"}
            onClick={() => void run("resume", actions.onResume!)}
          >
            Resume
          </Button>
        )}
        {canUndo && (
          <Button
            size="xs"
            variant="ghost"
            loading={busy === "undo"}
            onClick={() => void run("undo", actions.onUndo!)}
            title="Put the files back the way they were before this turn"
          >
            Undo this turn
          </Button>
        )}
      </span>
    </div>
  );
}

/** What the user wrote; an element picked in the preview that went with it shows as one line under it. */
function UserMessage({ text }: { text: string }) {
  const { text: said, element } = splitElementContext(text);
  return (
    <div className="max-w-[85%] rounded-lg bg-accent-600/15 px-3 py-2 text-[13px] break-words whitespace-pre-wrap text-neutral-100">
      {said}
      {element && (
        <span
          data-testid="message-element"
          className="mt-1 block truncate font-mono text-[11px] text-neutral-400"
        >
          {element}
        </span>
      )}
    </div>
  );
}
