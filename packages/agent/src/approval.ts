import type { AgentEvent, ApprovalDecision, ApprovalMode } from "@kiln/protocol";
import type { ToolDefinition } from "./tool.ts";

export type ApproveFn = (request: {
  toolCallId: string;
  toolName: string;
  input: unknown;
}) => Promise<ApprovalDecision | "timeout">;

export type GateResult = { run: true } | { run: false; output: string; cancelled?: boolean };

export const PLAN_MODE_REFUSAL =
  "Not run: this chat is in plan mode, where tools that change files or run commands are disabled. " +
  "Describe the change you would make instead; the user can switch to another mode to apply it.";
export const REJECTED_RESULT =
  "The user rejected this tool call, so it did not run. Do not retry it as is; ask the user or take another approach.";

/**
 * The single place that decides whether a call may run. The loop sends every call through `check`
 * (parallel batches included) after looking the tool up by its exact name, so there is no path around it.
 */
export class ApprovalGate {
  readonly #mode: ApprovalMode;
  readonly #approve: ApproveFn;
  readonly #timeoutMs: number;
  readonly #emit: (event: AgentEvent) => void;
  readonly #messageId: string;
  #approveAll = false;

  constructor(options: {
    mode: ApprovalMode;
    approve: ApproveFn;
    timeoutMs: number;
    emit: (event: AgentEvent) => void;
    messageId: string;
  }) {
    this.#mode = options.mode;
    this.#approve = options.approve;
    this.#timeoutMs = options.timeoutMs;
    this.#emit = options.emit;
    this.#messageId = options.messageId;
  }

  /** Tools the model is offered: in plan mode, mutating ones are not even shown. */
  offered(tools: readonly ToolDefinition[]): ToolDefinition[] {
    return this.#mode === "plan" ? tools.filter((t) => !t.mutates) : [...tools];
  }

  async check(
    call: { toolCallId: string; toolName: string; input: unknown },
    tool: ToolDefinition,
    signal: AbortSignal,
  ): Promise<GateResult> {
    if (!tool.mutates || this.#mode === "allow") return { run: true };
    if (this.#mode === "plan") return { run: false, output: PLAN_MODE_REFUSAL };
    if (this.#approveAll) return { run: true };

    const expiresAt = new Date(Date.now() + this.#timeoutMs).toISOString();
    this.#emit({ type: "approval-request", messageId: this.#messageId, ...call, expiresAt });
    const decision = await this.#decide(call, signal);
    if (decision === "cancelled")
      return { run: false, output: "Cancelled by the user while waiting for approval.", cancelled: true };
    this.#emit({
      type: "approval-resolved",
      messageId: this.#messageId,
      toolCallId: call.toolCallId,
      decision,
    });
    if (decision === "approve-all") this.#approveAll = true;
    if (decision === "approve" || decision === "approve-all") return { run: true };
    if (decision === "timeout") {
      return {
        run: false,
        output: `Nobody approved this tool call within ${Math.round(this.#timeoutMs / 1000)} s, so it did not run.`,
      };
    }
    return { run: false, output: REJECTED_RESULT };
  }

  async #decide(
    call: { toolCallId: string; toolName: string; input: unknown },
    signal: AbortSignal,
  ): Promise<ApprovalDecision | "timeout" | "cancelled"> {
    if (signal.aborted) return "cancelled";
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    try {
      return await Promise.race([
        this.#approve(call).then(
          // Anything but a known decision is a rejection: only an explicit yes runs a mutating tool.
          (d) => (d === "approve" || d === "approve-all" || d === "timeout" ? d : "reject"),
          () => "reject" as const,
        ),
        new Promise<"timeout">((resolve) => {
          timer = setTimeout(() => resolve("timeout"), this.#timeoutMs);
        }),
        new Promise<"cancelled">((resolve) => {
          onAbort = () => resolve("cancelled");
          signal.addEventListener("abort", onAbort, { once: true });
        }),
      ]);
    } finally {
      clearTimeout(timer);
      if (onAbort) signal.removeEventListener("abort", onAbort);
    }
  }
}
