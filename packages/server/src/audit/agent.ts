import { PLAN_MODE_REFUSAL } from "@kiln/agent";
import type { AgentEvent } from "@kiln/protocol";
import type { AuditEntry } from "./record.ts";
import { digestOf } from "./record.ts";

/**
 * What agents did, on whose behalf (ADR 0033): one `agent.tool_call` per tool call that ended, one
 * `agent.model_call` per model call. A call's arguments can hold file contents or secrets: only their
 * digest is recorded.
 */

/** How a tool call ended: it ran (ok), it ran or was refused by its tool (error), nobody let it run (denied). */
export type ToolCallOutcome = "ok" | "error" | "denied";

export interface ToolCallRecord {
  tool: string;
  toolCallId: string;
  /** digestOf(the arguments the model sent); null when their start was not seen. */
  argsDigest: string | null;
  outcome: ToolCallOutcome;
  messageId: string;
}

/**
 * Follows one run's events in order and says, at each `tool-call-end`, what to record: the call's name,
 * its arguments' digest (from its `tool-call-start`) and its outcome (an `approval-resolved` that refused
 * it makes it `denied`). Holds only the calls that started and did not end yet.
 */
export class ToolCallLedger {
  readonly #open = new Map<string, { argsDigest: string; denied: boolean }>();

  observe(event: AgentEvent): ToolCallRecord | undefined {
    switch (event.type) {
      case "tool-call-start":
        this.#open.set(event.toolCallId, { argsDigest: digestOf(event.input ?? null), denied: false });
        return undefined;
      case "approval-resolved": {
        const open = this.#open.get(event.toolCallId);
        if (open && (event.decision === "reject" || event.decision === "timeout")) open.denied = true;
        return undefined;
      }
      case "tool-call-end": {
        const open = this.#open.get(event.toolCallId);
        this.#open.delete(event.toolCallId);
        const denied = open?.denied === true || (event.isError && event.output === PLAN_MODE_REFUSAL);
        return {
          tool: event.toolName,
          toolCallId: event.toolCallId,
          argsDigest: open?.argsDigest ?? null,
          outcome: denied ? "denied" : event.isError ? "error" : "ok",
          messageId: event.messageId,
        };
      }
      default:
        return undefined;
    }
  }

  /** Calls started and not ended (tests; bounded by the calls of one model step). */
  get openCount(): number {
    return this.#open.size;
  }
}

export function toolCallEntry(
  call: ToolCallRecord,
  on: {
    orgId: string;
    userId: string | null;
    projectId: string | null;
    target: { type: string; id: string };
    source: "chat" | "job";
    jobId?: string;
    taskId?: string | null;
  },
): AuditEntry {
  return {
    orgId: on.orgId,
    action: "agent.tool_call",
    actor: { type: "agent", userId: on.userId },
    projectId: on.projectId,
    target: on.target,
    data: {
      tool: call.tool,
      toolCallId: call.toolCallId,
      argsDigest: call.argsDigest,
      outcome: call.outcome,
      messageId: call.messageId,
      source: on.source,
      ...(on.jobId ? { jobId: on.jobId } : {}),
      ...(on.taskId ? { taskId: on.taskId } : {}),
    },
  };
}

export interface ModelCallFacts {
  id: string;
  orgId: string;
  source: "chat" | "job" | "proxy";
  /** The person whose session or token made the call (chats, the proxy with a person's token). */
  userId?: string | undefined;
  /** The person a job's call was made for (the job's requester); never charged as the caller. */
  onBehalfOf?: string | undefined;
  projectId?: string | undefined;
  chatId?: string | undefined;
  messageId?: string | undefined;
  jobId?: string | undefined;
  provider: string;
  model: string;
  status: string;
  errorCode: string | null;
  inputTokens: number;
  outputTokens: number;
}

/** A model call: by a person's token through the proxy (`user`), else an agent for `userId`. */
export function modelCallEntry(call: ModelCallFacts): AuditEntry {
  const userId = call.userId ?? call.onBehalfOf ?? null;
  return {
    orgId: call.orgId,
    action: "agent.model_call",
    actor:
      call.source === "proxy" && call.userId
        ? { type: "user", userId: call.userId }
        : { type: "agent", userId },
    projectId: call.projectId ?? null,
    target: { type: "llm_call", id: call.id },
    data: {
      llmCallId: call.id,
      model: call.model,
      provider: call.provider,
      source: call.source,
      outcome: call.status,
      ...(call.errorCode ? { errorCode: call.errorCode } : {}),
      inputTokens: call.inputTokens,
      outputTokens: call.outputTokens,
      ...(call.chatId ? { chatId: call.chatId } : {}),
      ...(call.messageId ? { messageId: call.messageId } : {}),
      ...(call.jobId ? { jobId: call.jobId } : {}),
    },
  };
}
