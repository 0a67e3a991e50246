import { CloseIcon } from "../../ui/icons.tsx";
import type { QueuedMessage } from "./queue-store.ts";

/** Messages waiting for the running turn to end, each with a way to take it back. */
export function QueuedList({
  messages,
  onCancel,
}: {
  messages: readonly QueuedMessage[];
  onCancel: (id: string) => void;
}) {
  if (messages.length === 0) return null;
  return (
    <ul aria-label="Queued messages" className="flex flex-col gap-1.5 px-3 pb-3">
      {messages.map((m) => (
        <li
          key={m.id}
          data-testid="queued-message"
          className="ml-8 flex items-start gap-2 rounded-md border border-dashed border-line px-2.5 py-1.5 text-[13px] text-neutral-400"
        >
          <span className="shrink-0 rounded bg-tint/6 px-1.5 py-0.5 text-[10px] font-medium tracking-wide uppercase text-neutral-400">
            Queued
          </span>
          <span className="min-w-0 flex-1 whitespace-pre-wrap break-words">{m.text}</span>
          <button
            type="button"
            aria-label="Cancel queued message"
            title="Don't send this message"
            onClick={() => onCancel(m.id)}
            className="shrink-0 rounded p-0.5 text-neutral-500 hover:bg-tint/6 hover:text-neutral-200"
          >
            <CloseIcon className="size-3.5" />
          </button>
        </li>
      ))}
    </ul>
  );
}
