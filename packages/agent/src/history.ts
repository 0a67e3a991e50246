import type { MessagePart } from "@kiln/protocol";
import type { AssistantContent, FilePart, ModelMessage, ToolContent, UserContent } from "ai";

/** A chat message as stored: the user's text, or an assistant message's parts. */
export type StoredMessage =
  | { role: "user" | "assistant"; parts: MessagePart[] }
  | { role: "user"; text: string };

export const INTERRUPTED_RESULT =
  "The tool call was interrupted before it finished, so its result is unknown. Check the current state before repeating it.";

export function compactionMessage(summary: string): string {
  return `[Earlier conversation, summarised to save context]\n\n${summary}`;
}

/**
 * Stored chat messages → the messages the model sees next turn. Each model step inside an assistant message
 * (text, then the calls it made) becomes an assistant message followed by a tool message with the results,
 * in order. A compaction part replaces everything before it with its summary. Calls that never got a result
 * (the server stopped mid-run) get an "interrupted" result, because providers refuse a call without one.
 */
export function toModelMessages(
  messages: readonly StoredMessage[],
  images: ReadonlyMap<string, { mediaType: string; data: Uint8Array }> = new Map(),
): ModelMessage[] {
  let start = 0;
  let firstParts: MessagePart[] | undefined;
  let summary: string | undefined;
  for (let m = messages.length - 1; m >= 0 && summary === undefined; m--) {
    const message = messages[m]!;
    if (!("parts" in message)) continue;
    for (let p = message.parts.length - 1; p >= 0; p--) {
      const part = message.parts[p]!;
      if (part.type === "compaction") {
        summary = part.summary;
        start = m + 1;
        firstParts = message.role === "assistant" ? message.parts.slice(p + 1) : undefined;
        break;
      }
    }
  }

  const out: ModelMessage[] = [];
  const ids = new ToolCallIds();
  if (summary !== undefined) pushUser(out, compactionMessage(summary));
  if (firstParts) pushAssistantParts(out, firstParts, ids);
  for (const message of messages.slice(start)) {
    if (message.role === "user") {
      const text =
        "text" in message
          ? message.text
          : message.parts
              .filter((p) => p.type === "text")
              .map((p) => p.text)
              .join("\n");
      const pictures =
        "parts" in message
          ? message.parts.flatMap((p): FilePart[] => {
              const image = p.type === "image" ? images.get(p.imageId) : undefined;
              return image ? [{ type: "file", data: image.data, mediaType: image.mediaType }] : [];
            })
          : [];
      if (pictures.length) pushUserParts(out, text, pictures);
      else if (text.trim()) pushUser(out, text);
    } else if ("parts" in message) pushAssistantParts(out, message.parts, ids);
  }
  return out;
}

/** Consecutive user messages (a turn that produced nothing) are merged so roles keep alternating. */
function pushUser(out: ModelMessage[], text: string): void {
  const last = out[out.length - 1];
  if (last?.role === "user" && typeof last.content === "string") last.content = `${last.content}\n\n${text}`;
  else if (last?.role === "user" && Array.isArray(last.content)) last.content.push({ type: "text", text });
  else out.push({ role: "user", content: text });
}

/** A user message with images: its text first, then the images, as content parts. */
function pushUserParts(out: ModelMessage[], text: string, images: FilePart[]): void {
  const content: UserContent = [...(text.trim() ? [{ type: "text" as const, text }] : []), ...images];
  const last = out[out.length - 1];
  if (last?.role === "user") {
    const before: Exclude<UserContent, string> =
      typeof last.content === "string" ? [{ type: "text", text: last.content }] : last.content;
    last.content = [...before, ...content];
  } else out.push({ role: "user", content });
}

function pushAssistantParts(out: ModelMessage[], parts: readonly MessagePart[], ids: ToolCallIds): void {
  let content: Exclude<AssistantContent, string> = [];
  let results: ToolContent = [];
  const flush = () => {
    if (content.length) out.push({ role: "assistant", content });
    if (results.length) out.push({ role: "tool", content: results });
    content = [];
    results = [];
  };
  for (const part of parts) {
    if (part.type === "text") {
      if (!part.text) continue;
      if (results.length) flush();
      const last = content[content.length - 1];
      if (last?.type === "text") last.text += part.text;
      else content.push({ type: "text", text: part.text });
    } else if (part.type === "tool") {
      const id = ids.unique(part.toolCallId);
      const input =
        part.input && typeof part.input === "object" && !Array.isArray(part.input) ? part.input : {};
      content.push({ type: "tool-call", toolCallId: id, toolName: part.toolName, input });
      results.push({
        type: "tool-result",
        toolCallId: id,
        toolName: part.toolName,
        output: toolOutput(part),
      });
    }
    // Reasoning is not replayed (providers need their own signatures for it); errors were for the user.
  }
  flush();
}

function toolOutput(part: Extract<MessagePart, { type: "tool" }>) {
  switch (part.state) {
    case "done":
      return { type: "text" as const, value: part.output ?? "" };
    case "error":
      return { type: "error-text" as const, value: part.output ?? "The tool call failed." };
    case "rejected":
      return {
        type: "error-text" as const,
        value: part.output ?? "The user rejected this tool call; it did not run.",
      };
    default:
      return { type: "error-text" as const, value: INTERRUPTED_RESULT };
  }
}

/** Some providers reuse ids like `call_0` every turn; a conversation must not repeat one. */
export class ToolCallIds {
  readonly #seen = new Set<string>();

  unique(id: string): string {
    let candidate = id || "call";
    for (let n = 2; this.#seen.has(candidate); n++) candidate = `${id || "call"}_${n}`;
    this.#seen.add(candidate);
    return candidate;
  }

  add(id: string): void {
    this.#seen.add(id);
  }
}
