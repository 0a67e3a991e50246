import {
  type ApprovalMode,
  CHAT_IMAGE_TYPES,
  type LlmModelList,
  MAX_CHAT_IMAGE_BYTES,
  MAX_IMAGES_PER_MESSAGE,
} from "@kiln/protocol";
import { type KeyboardEvent, type ReactNode, useEffect, useLayoutEffect, useRef, useState } from "react";
import { Button, IconButton } from "../../ui/button.tsx";
import { cn } from "../../ui/cn.ts";
import { CloseIcon, ImageIcon, StopIcon } from "../../ui/icons.tsx";

/** An image attached in the composer, with a local preview until the message is sent. */
interface Attachment {
  file: File;
  url: string;
}

const ACCEPTED = new Set<string>(CHAT_IMAGE_TYPES);

const MODES: Array<{ id: ApprovalMode; label: string; title: string }> = [
  { id: "allow", label: "Allow", title: "Tools run at once" },
  { id: "ask", label: "Ask", title: "Changes and commands wait for your approval" },
  { id: "plan", label: "Plan", title: "Reads and plans; changes nothing" },
];

/** Shown (and only then offered) while the chat's "Approve all" holds: every change runs without asking. */
const APPROVE_ALL = {
  id: "approve-all",
  label: "Approve all",
  title: "You chose Approve all: changes and commands run without asking. Pick Ask to be asked again.",
} as const;

const MAX_ROWS_PX = 200;

const selectClass =
  "h-6 min-w-0 rounded border border-line bg-surface-0 px-1.5 text-[11px] text-neutral-300 hover:border-neutral-600 focus:border-accent-500 focus:outline-none disabled:opacity-50";

/**
 * Where a message is written. Enter sends, Shift-Enter starts a new line, Escape stops a running turn.
 * While a turn runs, Enter queues the message instead (it is sent when the turn ends).
 * Mode and model apply to the chat (and so to every turn after). The mode selector shows what applies: an
 * "Approve all" given on an approval card reads as such until another mode is picked.
 */
export function Composer({
  running,
  disabled,
  disabledReason,
  mode,
  approveAll,
  model,
  models,
  focusRequest,
  draft,
  onDraft,
  onSend,
  onQueue,
  onCancel,
  onMode,
  onModel,
  context,
}: {
  running: boolean;
  disabled: boolean;
  disabledReason?: string | undefined;
  mode: ApprovalMode;
  /** The chat's "Approve all" (it matters in Ask mode, where it stands for the mode). */
  approveAll: boolean;
  model: string | null;
  models: LlmModelList | undefined;
  focusRequest: number;
  draft: string;
  onDraft: (text: string) => void;
  /** `images`: attached in the composer (ADR 0041); the server checks what they are. */
  onSend: (text: string, images: File[]) => Promise<boolean>;
  onQueue: (text: string) => void;
  onCancel: () => void;
  onMode: (mode: ApprovalMode) => void;
  onModel: (model: string | null) => void;
  /** Shown above the text: what goes along with the message (the element picked in the preview). */
  context?: ReactNode;
}) {
  const area = useRef<HTMLTextAreaElement>(null);
  const picker = useRef<HTMLInputElement>(null);
  const [sending, setSending] = useState(false);
  const [attached, setAttached] = useState<Attachment[]>([]);
  const [attachError, setAttachError] = useState<string | null>(null);

  // The previews' object URLs are let go of with them.
  const latest = useRef(attached);
  latest.current = attached;
  useEffect(
    () => () => {
      for (const a of latest.current) URL.revokeObjectURL(a.url);
    },
    [],
  );

  /** Pasted, dropped or picked files: images of the four types under the size limit, up to four. */
  const attach = (files: Iterable<File>) => {
    const list = [...files];
    if (list.length === 0) return;
    const fine = list.filter((f) => ACCEPTED.has(f.type) && f.size <= MAX_CHAT_IMAGE_BYTES);
    const room = MAX_IMAGES_PER_MESSAGE - attached.length;
    const taken = fine.slice(0, Math.max(0, room));
    setAttachError(
      fine.length < list.length
        ? `Only PNG, JPEG, GIF or WebP images up to ${MAX_CHAT_IMAGE_BYTES / 1024 / 1024} MB`
        : taken.length < fine.length
          ? `At most ${MAX_IMAGES_PER_MESSAGE} images per message`
          : null,
    );
    if (taken.length)
      setAttached((a) => [...a, ...taken.map((file) => ({ file, url: URL.createObjectURL(file) }))]);
  };
  const detach = (index: number) => {
    setAttached((a) => {
      const gone = a[index];
      if (gone) URL.revokeObjectURL(gone.url);
      return a.filter((_, i) => i !== index);
    });
    setAttachError(null);
  };

  useEffect(() => {
    if (focusRequest > 0) area.current?.focus();
  }, [focusRequest]);

  // Grows with its text up to a limit, then scrolls.
  // biome-ignore lint/correctness/useExhaustiveDependencies: the height depends on the text
  useLayoutEffect(() => {
    const el = area.current;
    if (!el) return;
    el.style.height = "auto";
    el.style.height = `${Math.min(el.scrollHeight, MAX_ROWS_PX)}px`;
  }, [draft]);

  const send = async () => {
    const text = draft.trim();
    if (!text || sending || disabled) return;
    if (running) {
      // Queued messages are words only; attached images wait for a message sent once the turn ends.
      if (attached.length) return;
      onQueue(text);
      onDraft("");
      return;
    }
    setSending(true);
    try {
      if (
        await onSend(
          text,
          attached.map((a) => a.file),
        )
      ) {
        onDraft("");
        for (const a of attached) URL.revokeObjectURL(a.url);
        setAttached([]);
        setAttachError(null);
      }
    } finally {
      setSending(false);
    }
  };

  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      void send();
    } else if (e.key === "Escape" && running) {
      e.preventDefault();
      onCancel();
    }
  };

  const shownMode = approveAll && mode === "ask" ? APPROVE_ALL.id : mode;
  const modes = shownMode === APPROVE_ALL.id ? [...MODES, APPROVE_ALL] : MODES;
  const defaultModel = models?.defaultModel;
  const known = new Set(models?.models.map((m) => m.ref));

  return (
    <form
      className="border-t border-line p-2.5"
      onSubmit={(e) => {
        e.preventDefault();
        void send();
      }}
      onDragOver={(e) => {
        if (!disabled && e.dataTransfer.types.includes("Files")) e.preventDefault();
      }}
      onDrop={(e) => {
        if (disabled || e.dataTransfer.files.length === 0) return;
        e.preventDefault();
        attach(e.dataTransfer.files);
      }}
    >
      <div
        data-focus-ring="within"
        className={cn(
          "rounded-md border border-line bg-surface-0 focus-within:border-accent-500",
          disabled && "opacity-60",
        )}
      >
        {context}
        {attached.length > 0 && (
          <ul aria-label="Attached images" className="flex flex-wrap gap-1.5 px-2 pt-2">
            {attached.map((a, i) => (
              <li key={a.url} className="relative">
                <img
                  src={a.url}
                  alt={a.file.name || "Pasted image"}
                  className="block size-14 rounded border border-line object-cover"
                />
                <IconButton
                  label={`Remove ${a.file.name || "image"}`}
                  onClick={() => detach(i)}
                  className="absolute -top-1.5 -right-1.5 size-5 rounded-full border border-line bg-surface-1 text-neutral-300"
                >
                  <CloseIcon className="size-2.5" />
                </IconButton>
              </li>
            ))}
          </ul>
        )}
        {attachError && (
          <p role="alert" className="px-3 pt-1.5 text-[11px] text-amber-300/90">
            {attachError}
          </p>
        )}
        <textarea
          ref={area}
          onPaste={(e) => {
            const files = [...e.clipboardData.files].filter((f) => f.type.startsWith("image/"));
            if (files.length === 0) return;
            e.preventDefault();
            attach(files);
          }}
          aria-label="Message the agent"
          rows={2}
          value={draft}
          disabled={disabled}
          onChange={(e) => onDraft(e.target.value)}
          onKeyDown={onKeyDown}
          placeholder={
            disabledReason ??
            (running ? "Queue a message for when the agent finishes…" : "Ask Kiln to build something…")
          }
          className="block max-h-[200px] w-full resize-none bg-transparent px-3 py-2 text-[13px] leading-relaxed text-neutral-100 placeholder:text-neutral-600 focus:outline-none focus-visible:outline-none"
        />
        <div className="flex items-center gap-1.5 px-2 pb-2">
          <select
            aria-label="Approval mode"
            value={shownMode}
            disabled={disabled}
            onChange={(e) => {
              if (e.target.value !== APPROVE_ALL.id) onMode(e.target.value as ApprovalMode);
            }}
            title={modes.find((m) => m.id === shownMode)?.title}
            className={selectClass}
          >
            {modes.map((m) => (
              <option key={m.id} value={m.id} title={m.title}>
                {m.label}
              </option>
            ))}
          </select>
          <select
            aria-label="Model"
            value={model ?? ""}
            disabled={disabled || !models}
            onChange={(e) => onModel(e.target.value || null)}
            className={cn(selectClass, "max-w-44 flex-1 truncate font-mono")}
          >
            <option value="">{defaultModel ? `Default (${defaultModel})` : "Default model"}</option>
            {model && !known.has(model) && <option value={model}>{model}</option>}
            {models?.models.map((m) => (
              <option key={m.ref} value={m.ref}>
                {m.ref}
              </option>
            ))}
          </select>
          <input
            ref={picker}
            type="file"
            accept={CHAT_IMAGE_TYPES.join(",")}
            multiple
            hidden
            aria-label="Image files"
            onChange={(e) => {
              if (e.target.files) attach(e.target.files);
              e.target.value = "";
            }}
          />
          <IconButton
            label="Attach images"
            disabled={disabled || attached.length >= MAX_IMAGES_PER_MESSAGE}
            onClick={() => picker.current?.click()}
          >
            <ImageIcon className="size-3.5" />
          </IconButton>
          <span className="ml-auto" />
          {running && draft.trim() && (
            <Button
              type="submit"
              size="xs"
              variant="secondary"
              disabled={disabled}
              title="Send when the agent finishes (Enter)"
            >
              Queue
            </Button>
          )}
          {running ? (
            <Button
              size="xs"
              variant="secondary"
              icon={<StopIcon className="size-3" />}
              onClick={onCancel}
              title="Stop the agent (Esc)"
            >
              Stop
            </Button>
          ) : (
            <Button
              type="submit"
              size="xs"
              variant="primary"
              loading={sending}
              disabled={disabled || !draft.trim()}
              title="Send (Enter)"
            >
              Send
            </Button>
          )}
        </div>
      </div>
    </form>
  );
}
