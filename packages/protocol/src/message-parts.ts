import { z } from "zod";
import { type AgentEvent, RunStatus, RunStopReason, Usage } from "./agent.ts";

/**
 * A chat message as stored and shown: an ordered list of parts. The server folds a run's events into
 * parts as they stream (and persists them); the web app folds the same events the same way, so a live
 * view and a reloaded one look identical.
 */

export const ToolPartState = z.enum(["writing", "running", "awaiting-approval", "done", "error", "rejected"]);
export type ToolPartState = z.infer<typeof ToolPartState>;

export const MessagePart = z.discriminatedUnion("type", [
  z.object({ type: z.literal("text"), text: z.string() }),
  z.object({ type: z.literal("reasoning"), text: z.string() }),
  z.object({
    type: z.literal("tool"),
    toolCallId: z.string(),
    toolName: z.string(),
    input: z.unknown(),
    state: ToolPartState,
    output: z.string().optional(),
    metadata: z.unknown().optional(),
    durationMs: z.number().optional(),
    expiresAt: z.string().optional(),
    /** While `writing`: how many characters of arguments the model has streamed so far. */
    inputChars: z.number().optional(),
  }),
  /** An image the person attached (ADR 0041); its bytes are served at the chat's images/{imageId}. */
  z.object({ type: z.literal("image"), imageId: z.string(), mediaType: z.string() }),
  z.object({ type: z.literal("compaction"), summary: z.string() }),
  z.object({ type: z.literal("error"), code: z.string(), message: z.string() }),
  /** The gateway is waiting to retry a refused model call (the latest retry of a run of them). */
  z.object({
    type: z.literal("retry"),
    retry: z.number(),
    maxRetries: z.number(),
    waitMs: z.number(),
    code: z.string(),
    message: z.string(),
  }),
]);
export type MessagePart = z.infer<typeof MessagePart>;

export const AssistantOutcome = z.object({
  status: RunStatus,
  reason: RunStopReason,
  detail: z.string().optional(),
  usage: Usage,
});
export type AssistantOutcome = z.infer<typeof AssistantOutcome>;

/** Folds one event into a message's parts (returns a new array; the input is not changed). */
export function applyEventToParts(parts: readonly MessagePart[], event: AgentEvent): MessagePart[] {
  const out = parts.slice();
  const last = out[out.length - 1];
  switch (event.type) {
    case "text-delta":
    case "reasoning-delta": {
      const kind = event.type === "text-delta" ? "text" : "reasoning";
      if (last && last.type === kind) out[out.length - 1] = { ...last, text: last.text + event.delta };
      else out.push({ type: kind, text: event.delta });
      return out;
    }
    case "tool-input-start":
      out.push({
        type: "tool",
        toolCallId: event.toolCallId,
        toolName: event.toolName,
        input: {},
        state: "writing",
      });
      return out;
    case "tool-input-progress":
      return out.map((p) =>
        p.type === "tool" && p.toolCallId === event.toolCallId && p.state === "writing"
          ? { ...p, input: event.input, inputChars: event.chars }
          : p,
      );
    case "tool-call-start": {
      const part: MessagePart = {
        type: "tool",
        toolCallId: event.toolCallId,
        toolName: event.toolName,
        input: event.input,
        state: "running",
      };
      // The card shown while the model wrote the call becomes the running call, in the same place.
      const at = out.findIndex((p) => p.type === "tool" && p.toolCallId === event.toolCallId);
      if (at === -1) out.push(part);
      else out[at] = part;
      return out;
    }
    case "approval-request":
      return updateTool(out, event.toolCallId, { state: "awaiting-approval", expiresAt: event.expiresAt });
    case "approval-resolved":
      return updateTool(out, event.toolCallId, {
        state: event.decision === "approve" || event.decision === "approve-all" ? "running" : "rejected",
        expiresAt: undefined,
      });
    case "tool-call-end": {
      const current = out.find((p) => p.type === "tool" && p.toolCallId === event.toolCallId);
      const rejected = current?.type === "tool" && current.state === "rejected";
      return updateTool(out, event.toolCallId, {
        state: rejected ? "rejected" : event.isError ? "error" : "done",
        output: event.output,
        metadata: event.metadata,
        durationMs: event.durationMs,
      });
    }
    case "compaction":
      out.push({ type: "compaction", summary: event.summary });
      return out;
    case "error":
      out.push({ type: "error", code: event.code, message: event.message });
      return out;
    case "model-retry": {
      const { type: _, messageId: __, ...retry } = event;
      // One line per run of retries: the next one replaces it.
      if (last?.type === "retry") out[out.length - 1] = { type: "retry", ...retry };
      else out.push({ type: "retry", ...retry });
      return out;
    }
    case "message-end":
      // Calls still open when a run stops never got a result; show them as failed rather than spinning.
      return out.map((p) =>
        p.type === "tool" &&
        (p.state === "writing" || p.state === "running" || p.state === "awaiting-approval")
          ? { ...p, state: "error", output: p.output ?? `not run: ${event.reason}`, expiresAt: undefined }
          : p,
      );
    default:
      return out;
  }
}

function updateTool(
  parts: MessagePart[],
  toolCallId: string,
  patch: Partial<Extract<MessagePart, { type: "tool" }>>,
): MessagePart[] {
  return parts.map((p) => (p.type === "tool" && p.toolCallId === toolCallId ? { ...p, ...patch } : p));
}
