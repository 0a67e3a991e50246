import type { ApprovalDecision, MessagePart } from "@kiln/protocol";
import { useState } from "react";
import { cn } from "../../ui/cn.ts";
import { ChevronDown, ChevronRight } from "../../ui/icons.tsx";
import { Spinner } from "../../ui/spinner.tsx";
import { ApprovalCard } from "./approval-card.tsx";

type ToolPart = Extract<MessagePart, { type: "tool" }>;

const STATE_LOOK: Record<ToolPart["state"], { label: string; className: string }> = {
  writing: { label: "writing", className: "text-neutral-400" },
  running: { label: "running", className: "text-sky-300" },
  "awaiting-approval": { label: "needs approval", className: "text-amber-300" },
  done: { label: "done", className: "text-emerald-300" },
  error: { label: "failed", className: "text-red-300" },
  rejected: { label: "rejected", className: "text-neutral-400" },
};

/** The one line that says what a call does: the path it touches or the command it runs. */
export function toolSummary(input: unknown): string {
  if (!input || typeof input !== "object") return "";
  const o = input as Record<string, unknown>;
  for (const key of ["command", "path", "pattern", "query", "url", "from"]) {
    const v = o[key];
    if (typeof v === "string" && v) return v.length > 80 ? `${v.slice(0, 77)}…` : v;
  }
  return "";
}

/** Tools whose call is mostly a file's new text: while it streams, the card names the file. */
const WRITES = new Set(["write_file", "edit_file", "multi_edit"]);

/** The line a call shows while the model is still writing its arguments. */
export function writingLine(part: Pick<ToolPart, "toolName" | "input" | "inputChars">): string {
  const path = (part.input as { path?: unknown } | undefined)?.path;
  const size = part.inputChars ? ` ${formatChars(part.inputChars)}` : "";
  if (WRITES.has(part.toolName) && typeof path === "string" && path) return `Writing ${path}…${size}`;
  const summary = toolSummary(part.input);
  return `Preparing ${part.toolName}${summary ? ` ${summary}` : ""}…${size}`;
}

function formatChars(n: number): string {
  return n < 1000 ? `(${n} chars)` : `(${(n / 1000).toFixed(1)}k chars)`;
}

/** The loop's words for a call to a tool the agent is not given (agent package, tool-runner.ts). */
const REFUSED = /^Unknown tool "[^"]*": not one of this agent's tools, so it did not run\./;

/** Whether the call was refused because the chat's agent does not have that tool (ADR 0035): nothing ran. */
export function refusedByAgent(part: Pick<ToolPart, "state" | "output">): boolean {
  return part.state === "error" && typeof part.output === "string" && REFUSED.test(part.output);
}

/** A diff the tool reported for the UI (`metadata.diff`), if any. */
function diffOf(metadata: unknown): string | undefined {
  if (metadata && typeof metadata === "object" && typeof (metadata as { diff?: unknown }).diff === "string") {
    return (metadata as { diff: string }).diff;
  }
  return undefined;
}

/** A tool call: collapsed to one line; open for its input, output and diff. Approval asks inline. */
export function ToolCard({
  part,
  onDecide,
}: {
  part: ToolPart;
  onDecide?: (toolCallId: string, decision: ApprovalDecision) => void;
}) {
  // Until the user chooses, a card is open while it needs attention.
  const [chosen, setOpen] = useState<boolean>();
  const open = chosen ?? (part.state === "error" || part.state === "awaiting-approval");
  const refused = refusedByAgent(part);
  const look = refused ? { label: "not allowed", className: "text-amber-300" } : STATE_LOOK[part.state];
  const diff = diffOf(part.metadata);
  if (part.state === "writing") {
    return (
      <div
        className="flex items-center gap-2 rounded-md border border-line bg-surface-0/70 px-2.5 py-1.5 text-xs"
        data-tool={part.toolName}
        data-state={part.state}
        role="status"
      >
        <Spinner className="[&_svg]:size-3" label="Writing" />
        <span className="min-w-0 flex-1 truncate font-mono text-neutral-400">{writingLine(part)}</span>
      </div>
    );
  }
  return (
    <div
      className="rounded-md border border-line bg-surface-0/70 text-xs"
      data-tool={part.toolName}
      data-state={part.state}
      data-refused={refused || undefined}
    >
      <button
        type="button"
        aria-expanded={open}
        onClick={() => setOpen(!open)}
        className="flex w-full items-center gap-2 px-2.5 py-1.5 text-left"
      >
        {open ? (
          <ChevronDown className="size-3 text-neutral-500" />
        ) : (
          <ChevronRight className="size-3 text-neutral-500" />
        )}
        <span className="font-mono font-medium text-neutral-200">{part.toolName}</span>
        <span className="min-w-0 flex-1 truncate font-mono text-neutral-500">{toolSummary(part.input)}</span>
        {part.state === "running" && <Spinner className="[&_svg]:size-3" label="Running" />}
        <span className={cn("shrink-0", look.className)}>{look.label}</span>
        {part.durationMs !== undefined && (
          <span className="shrink-0 text-neutral-600">{(part.durationMs / 1000).toFixed(1)} s</span>
        )}
      </button>
      {part.state === "awaiting-approval" && onDecide && (
        <ApprovalCard expiresAt={part.expiresAt} onDecide={(d) => onDecide(part.toolCallId, d)} />
      )}
      {refused && (
        <p role="note" className="border-t border-line bg-amber-500/5 px-2.5 py-1.5 text-amber-200/90">
          This agent is not allowed to use <span className="font-mono">{part.toolName}</span>: the call was
          refused and nothing ran.
        </p>
      )}
      {open && (
        <div className="flex flex-col gap-2 border-t border-line px-2.5 py-2">
          {/* A file tool's input is its path and text, which the diff shows better. */}
          {diff ? <Diff label="Changes" text={diff} /> : <InputView input={part.input} />}
          {part.output !== undefined && <Block label="Output">{part.output}</Block>}
        </div>
      )}
    </div>
  );
}

function Block({ label, children }: { label: string; children: string }) {
  return (
    <div>
      <div className="mb-1 text-[10px] font-medium tracking-wide text-neutral-500 uppercase">{label}</div>
      <pre className="max-h-60 overflow-auto rounded bg-inset p-2 font-mono text-[11px] leading-snug whitespace-pre-wrap text-neutral-300">
        {children}
      </pre>
    </div>
  );
}

/**
 * What a call is asked to do, in the form a person reads fastest (it is what an approval is decided on):
 * the command line, the new file text, the replacement as a diff; anything else as JSON.
 */
function InputView({ input }: { input: unknown }) {
  const o = input && typeof input === "object" ? (input as Record<string, unknown>) : {};
  const str = (k: string) => (typeof o[k] === "string" ? (o[k] as string) : undefined);
  const command = str("command");
  if (command !== undefined) return <Block label="Command">{`$ ${command}`}</Block>;
  const content = str("content");
  if (content !== undefined) return <Block label="Content">{content}</Block>;
  const edits = Array.isArray(o.edits) ? (o.edits as Array<Record<string, unknown>>) : [o];
  if (
    edits.length > 0 &&
    edits.every((e) => typeof e.old_string === "string" && typeof e.new_string === "string")
  ) {
    const lines = edits.flatMap((e, i) => [
      ...(edits.length > 1 ? [`@@ edit ${i + 1}`] : []),
      ...String(e.old_string)
        .split("\n")
        .map((l) => `-${l}`),
      ...String(e.new_string)
        .split("\n")
        .map((l) => `+${l}`),
    ]);
    return <Diff label="Proposed change" text={lines.join("\n")} />;
  }
  return <Block label="Input">{JSON.stringify(input, null, 2)}</Block>;
}

function Diff({ label, text }: { label: string; text: string }) {
  return (
    <div>
      <div className="mb-1 text-[10px] font-medium tracking-wide text-neutral-500 uppercase">{label}</div>
      <pre className="max-h-72 overflow-auto rounded bg-inset py-1 font-mono text-[11px] leading-snug">
        {text.split("\n").map((line, i) => (
          <div
            // biome-ignore lint/suspicious/noArrayIndexKey: diff lines have no identity but their position
            key={i}
            className={cn(
              "px-2 whitespace-pre-wrap",
              line.startsWith("+") && !line.startsWith("+++") && "bg-emerald-500/10 text-emerald-300",
              line.startsWith("-") && !line.startsWith("---") && "bg-red-500/10 text-red-300",
              line.startsWith("@@") && "text-sky-300/80",
              !/^[-+@]/.test(line) && "text-neutral-400",
            )}
          >
            {line || " "}
          </div>
        ))}
      </pre>
    </div>
  );
}
