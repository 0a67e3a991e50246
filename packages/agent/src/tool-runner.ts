import type { AgentEvent } from "@kiln/protocol";
import type { ApprovalGate } from "./approval.ts";
import type { ModelToolCall } from "./model-step.ts";
import { executeTool, type ToolCallOutcome, type ToolDefinition, validateToolInput } from "./tool.ts";
import type { Workspace } from "./workspace.ts";

export interface ToolRunnerOptions {
  tools: readonly ToolDefinition[];
  /** What the model was shown (named in the "unknown tool" answer). */
  offered: readonly ToolDefinition[];
  gate: ApprovalGate;
  workspace: Workspace;
  state: Map<string, unknown>;
  messageId: string;
  signal: AbortSignal;
  emit: (event: AgentEvent) => void;
}

/**
 * Runs the calls of one model step. Every call, whatever batch it is in, goes through the same steps:
 * exact lookup among the run's tools → input validation → the approval gate → the tool wrapper; and ends
 * with exactly one `tool-call-end`.
 */
export class ToolRunner {
  readonly #o: ToolRunnerOptions;
  readonly #registry: Map<string, ToolDefinition>;
  readonly cleanups: Array<() => Promise<void> | void> = [];
  readonly changedPaths = new Set<string>();

  constructor(options: ToolRunnerOptions) {
    this.#o = options;
    // A Map, not an object: names like "__proto__" or "constructor" must not find anything.
    this.#registry = new Map(options.tools.map((t) => [t.name, t]));
  }

  tool(name: string): ToolDefinition | undefined {
    return this.#registry.get(name);
  }

  /**
   * Consecutive read-only calls run together; a mutating call runs alone, in the model's order (a later
   * read may depend on an earlier write). Outcomes keep the model's order.
   */
  async runAll(calls: readonly ModelToolCall[]): Promise<ToolCallOutcome[]> {
    const outcomes: ToolCallOutcome[] = new Array(calls.length);
    let i = 0;
    while (i < calls.length) {
      if (this.tool(calls[i]!.toolName)?.mutates) {
        outcomes[i] = await this.#run(calls[i]!);
        i++;
        continue;
      }
      let j = i;
      while (j < calls.length && !this.tool(calls[j]!.toolName)?.mutates) j++;
      const batch = await Promise.all(calls.slice(i, j).map((c) => this.#run(c)));
      for (const [k, outcome] of batch.entries()) outcomes[i + k] = outcome;
      i = j;
    }
    return outcomes;
  }

  async #run(call: ModelToolCall): Promise<ToolCallOutcome> {
    const { signal, emit, messageId } = this.#o;
    const started = performance.now();
    const end = (
      outcome: Pick<ToolCallOutcome, "output" | "isError"> & Partial<ToolCallOutcome>,
    ): ToolCallOutcome => {
      const full: ToolCallOutcome = {
        changedPaths: [],
        durationMs: Math.max(0, performance.now() - started),
        ...outcome,
      };
      for (const p of full.changedPaths) this.changedPaths.add(p);
      emit({
        type: "tool-call-end",
        messageId,
        toolCallId: call.toolCallId,
        toolName: call.toolName,
        output: full.output,
        ...(full.metadata !== undefined ? { metadata: full.metadata } : {}),
        isError: full.isError,
        durationMs: full.durationMs,
      });
      return full;
    };

    if (signal.aborted) return end({ output: "Cancelled before it started.", isError: true });
    const tool = this.tool(call.toolName);
    if (!tool) {
      const names = this.#o.offered.map((t) => t.name).join(", ");
      return end({
        output: `Unknown tool "${call.toolName}": not one of this agent's tools, so it did not run. Tool names are case-sensitive; available: ${names}.`,
        isError: true,
      });
    }
    const valid = validateToolInput(tool, call.input);
    if (!valid.ok) return end({ output: valid.output, isError: true });
    const decision = await this.#o.gate.check(call, tool, signal);
    if (!decision.run) return end({ output: decision.output, isError: true });
    return end(
      await executeTool(tool, call.input, {
        workspace: this.#o.workspace,
        signal,
        messageId,
        toolCallId: call.toolCallId,
        state: this.#o.state,
        emit,
        onRunEnd: (fn) => this.cleanups.push(fn),
      }),
    );
  }
}
