import {
  type AgentEvent,
  type AgentEventType,
  addUsage,
  applyEventToParts,
  type ChatMessage,
  type ChatWithMessages,
  ZERO_USAGE,
} from "@kiln/protocol";

/**
 * Every event name the server sends (`event: <type>` in the stream). Spelled out rather than read from the
 * zod union so the stream code does not depend on zod internals; the check below fails to compile when
 * the protocol gains a type this list lacks.
 */
export const AGENT_EVENT_TYPES = [
  "message-start",
  "text-delta",
  "reasoning-delta",
  "tool-input-start",
  "tool-input-progress",
  "tool-call-start",
  "approval-request",
  "approval-resolved",
  "tool-call-end",
  "step-finish",
  "message-end",
  "compaction",
  "todos",
  "checkpoint",
  "model-retry",
  "error",
] as const satisfies readonly AgentEventType[];
type Missing = Exclude<AgentEventType, (typeof AGENT_EVENT_TYPES)[number]>;
const _complete: [Missing] extends [never] ? true : Missing = true;
void _complete;

/**
 * One event folded into an assistant message: the parts the same way the server folds them, plus the
 * fields the message row gets when the turn ends. Tokens count up per model step while the turn runs.
 */
export function applyRunEvent(message: ChatMessage, event: AgentEvent): ChatMessage {
  const parts = applyEventToParts(message.parts, event);
  switch (event.type) {
    case "message-start":
      return { ...message, parts, model: event.model ?? message.model };
    case "step-finish":
      return { ...message, parts, usage: addUsage(message.usage ?? ZERO_USAGE, event.usage) };
    case "checkpoint":
      return { ...message, parts, checkpointSha: event.sha };
    case "message-end":
      return {
        ...message,
        parts,
        status: event.status,
        reason: event.reason,
        detail: event.detail ?? null,
        usage: event.usage,
      };
    default:
      return { ...message, parts };
  }
}

/** The message as a replay from the first event rebuilds it. */
export function blankRun(message: ChatMessage): ChatMessage {
  return { ...message, parts: [], usage: null, status: "running", reason: null, detail: null };
}

/** The chat with one message replaced (or appended when new); the running id follows the messages. */
export function withMessage(chat: ChatWithMessages, message: ChatMessage): ChatWithMessages {
  const at = chat.messages.findIndex((m) => m.id === message.id);
  const messages = chat.messages.slice();
  if (at === -1) messages.push(message);
  else messages[at] = message;
  const running = messages.find((m) => m.role === "assistant" && m.status === "running");
  return { ...chat, messages, runningMessageId: running?.id ?? null };
}

/** The assistant message still being written, if any. */
export function runningMessage(chat: ChatWithMessages | undefined): ChatMessage | undefined {
  return chat?.messages.find((m) => m.role === "assistant" && m.status === "running");
}
