import type { ApprovalDecision, AssistantOutcome, MessagePart, Usage } from "@kiln/protocol";
import { useState } from "react";
import Markdown from "react-markdown";
import { cn } from "../../ui/cn.ts";
import { ToolCard } from "./tool-card.tsx";

export interface ChatMessageView {
  id: string;
  role: "user" | "assistant";
  parts: MessagePart[];
  /** Set once an assistant turn has ended. */
  outcome?: AssistantOutcome;
  /** Cost of the turn in US dollars, when the model has a price. */
  costUsd?: number;
}

/** Messages as the chat shows them: markdown text, collapsible reasoning, tool cards, usage per turn. */
export function MessageList({
  messages,
  onDecide,
}: {
  messages: ChatMessageView[];
  onDecide?: (toolCallId: string, decision: ApprovalDecision) => void;
}) {
  return (
    <ol className="flex flex-col gap-4 px-3 py-4">
      {messages.map((m) => (
        <li key={m.id} className={cn("flex flex-col gap-2", m.role === "user" && "items-end")}>
          {m.role === "user" ? (
            <div className="max-w-[85%] rounded-lg bg-accent-600/15 px-3 py-2 text-[13px] whitespace-pre-wrap text-neutral-100">
              {m.parts.map((p) => (p.type === "text" ? p.text : "")).join("")}
            </div>
          ) : (
            <>
              {m.parts.map((p, i) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: parts only ever grow at the end
                <PartView key={i} part={p} onDecide={onDecide} />
              ))}
              {m.outcome && <OutcomeLine outcome={m.outcome} costUsd={m.costUsd} />}
            </>
          )}
        </li>
      ))}
    </ol>
  );
}

function PartView({
  part,
  onDecide,
}: {
  part: MessagePart;
  onDecide: ((toolCallId: string, decision: ApprovalDecision) => void) | undefined;
}) {
  switch (part.type) {
    case "text":
      return (
        <div className="prose-kiln text-[13px] leading-relaxed text-neutral-200">
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
  const k = (n: number) => (n >= 1000 ? `${(n / 1000).toFixed(1)}k` : String(n));
  return `${k(usage.inputTokens)} in · ${k(usage.outputTokens)} out`;
}

function OutcomeLine({ outcome, costUsd }: { outcome: AssistantOutcome; costUsd: number | undefined }) {
  const stopped = outcome.reason !== "done";
  return (
    <p className={cn("text-[11px]", stopped ? "text-amber-300/80" : "text-neutral-600")}>
      {stopped && (
        <span className="mr-2">Stopped: {outcome.detail ?? outcome.reason.replaceAll("_", " ")}</span>
      )}
      {formatTokens(outcome.usage)}
      {costUsd !== undefined && ` · $${costUsd.toFixed(costUsd < 0.01 ? 4 : 2)}`}
    </p>
  );
}
