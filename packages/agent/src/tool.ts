import type { AgentEvent } from "@kiln/protocol";
import { z } from "zod";
import { errorMessage, truncateMiddle } from "./text.ts";
import { type Workspace, WorkspaceError } from "./workspace.ts";

export interface ToolContext {
  workspace: Workspace;
  /** Aborted when the run is cancelled or the call's time limit passes. */
  signal: AbortSignal;
  messageId: string;
  toolCallId: string;
  /** Per-run state shared by tools (todos, open shells). */
  state: Map<string, unknown>;
  emit(event: AgentEvent): void;
  /** Registers clean-up for when the run ends (closing shells a tool opened). */
  onRunEnd(fn: () => Promise<void> | void): void;
}

export interface ToolResult {
  /** Text for the model. */
  output: string;
  /** For the UI only (diffs, exit codes). */
  metadata?: unknown;
  /** The call failed; the model sees `output` as the error. */
  isError?: boolean;
  /** Workspace paths the call wrote or deleted. */
  changedPaths?: string[];
}

export interface ToolDefinition<I extends z.ZodType = z.ZodType> {
  name: string;
  description: string;
  input: I;
  /**
   * The schema the model is shown, when it is not `input`'s (a tool from an MCP server describes its own in
   * JSON Schema; `input` then only checks the arguments are an object, and the server checks the rest).
   */
  jsonSchema?: Readonly<Record<string, unknown>>;
  /** Mutating tools run one at a time, need approval in `ask` mode and are refused in `plan` mode. */
  mutates: boolean;
  /** Longest one call may take (default 60 s); a function when the input carries its own timeout. */
  timeoutMs?: number | ((input: z.infer<I>) => number);
  /** Output longer than this is cut in the middle (default 30 000 characters). */
  maxOutputChars?: number;
  execute(input: z.infer<I>, ctx: ToolContext): Promise<ToolResult>;
}

/** What the loop records for a call, whatever happened inside it. */
export interface ToolCallOutcome {
  output: string;
  metadata?: unknown;
  isError: boolean;
  durationMs: number;
  changedPaths: string[];
}

export const DEFAULT_TOOL_TIMEOUT_MS = 60_000;
export const DEFAULT_MAX_OUTPUT_CHARS = 30_000;
const TOOL_NAME = /^[a-z][a-z0-9_]{0,63}$/;

/** Declares a tool. The input must be a zod object whose fields all carry `.describe()` (checked here). */
export function defineTool<I extends z.ZodObject>(definition: ToolDefinition<I>): ToolDefinition<I> {
  if (!TOOL_NAME.test(definition.name)) throw new Error(`invalid tool name: ${definition.name}`);
  for (const [key, field] of Object.entries(definition.input.shape)) {
    if (!(field as z.ZodType).description) {
      throw new Error(`tool ${definition.name}: input field "${key}" has no .describe()`);
    }
  }
  return definition;
}

/**
 * The JSON Schema a tool shows the model (a wire contract: snapshot-tested). Made once per input schema and
 * frozen: zod's JSON Schema conversion was ~0.6 ms of CPU per turn, and tools are defined per turn over the
 * same module-level inputs.
 */
export function toolInputJsonSchema(tool: ToolDefinition): Readonly<Record<string, unknown>> {
  if (tool.jsonSchema) return tool.jsonSchema;
  let schema = jsonSchemas.get(tool.input);
  if (!schema) {
    const made = z.toJSONSchema(tool.input, { target: "draft-7", io: "input", unrepresentable: "any" });
    const { $schema: _ignored, ...rest } = made as Record<string, unknown>;
    schema = deepFreeze(closeObjects(rest));
    jsonSchemas.set(tool.input, schema);
  }
  return schema;
}

const jsonSchemas = new WeakMap<z.ZodType, Record<string, unknown>>();

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** Providers in strict mode want every object closed; extra keys are stripped by zod anyway. */
function closeObjects(schema: Record<string, unknown>): Record<string, unknown> {
  if (schema.type === "object" && schema.additionalProperties === undefined)
    schema.additionalProperties = false;
  for (const key of ["properties", "definitions"]) {
    const map = schema[key] as Record<string, Record<string, unknown>> | undefined;
    if (map) for (const k of Object.keys(map)) closeObjects(map[k]!);
  }
  if (schema.items && typeof schema.items === "object") closeObjects(schema.items as Record<string, unknown>);
  for (const key of ["anyOf", "oneOf", "allOf"]) {
    const list = schema[key] as Record<string, unknown>[] | undefined;
    if (list) for (const s of list) closeObjects(s);
  }
  return schema;
}

/**
 * Runs one call with everything every tool needs: input validation (a readable error for the model,
 * never an exception), a time limit, abort on cancel, errors turned into results, output truncation
 * and timing. `rawInput` is what the model sent: an object, or the raw text when it was not JSON.
 */
export async function executeTool(
  tool: ToolDefinition,
  rawInput: unknown,
  ctx: ToolContext,
): Promise<ToolCallOutcome> {
  const started = performance.now();
  const finish = (result: ToolResult): ToolCallOutcome => {
    const { text } = truncateMiddle(result.output, tool.maxOutputChars ?? DEFAULT_MAX_OUTPUT_CHARS);
    return {
      output: text,
      metadata: result.metadata,
      isError: result.isError ?? false,
      durationMs: Math.max(0, performance.now() - started),
      changedPaths: result.changedPaths ?? [],
    };
  };

  const parsed = validateToolInput(tool, rawInput);
  if (!parsed.ok) return finish({ output: parsed.output, isError: true });
  if (ctx.signal.aborted) return finish({ output: "Cancelled before it started.", isError: true });

  const limit = typeof tool.timeoutMs === "function" ? tool.timeoutMs(parsed.data) : tool.timeoutMs;
  const timeoutMs = limit ?? DEFAULT_TOOL_TIMEOUT_MS;
  const timer = new AbortController();
  const handle = setTimeout(() => timer.abort(new ToolTimeoutError(timeoutMs)), timeoutMs);
  const signal = AbortSignal.any([ctx.signal, timer.signal]);
  try {
    // A tool that ignores its signal must not hold up the run: the race ends the call on abort and its
    // late result (or rejection) is dropped.
    const result = await new Promise<ToolResult>((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
      tool
        .execute(parsed.data, { ...ctx, signal })
        .then(resolve, reject)
        .finally(() => signal.removeEventListener("abort", onAbort));
    });
    return finish(result);
  } catch (err) {
    if (err instanceof ToolTimeoutError) {
      return finish({
        output: `${tool.name} did not finish within ${Math.round(timeoutMs / 1000)} s and was stopped.`,
        isError: true,
      });
    }
    if (ctx.signal.aborted) return finish({ output: "Cancelled by the user.", isError: true });
    return finish({ output: toolErrorText(err), isError: true });
  } finally {
    clearTimeout(handle);
  }
}

class ToolTimeoutError extends Error {
  constructor(ms: number) {
    super(`timed out after ${ms} ms`);
    this.name = "ToolTimeoutError";
  }
}

/** What the model sees for a failure inside a tool: the workspace code when there is one. */
export function toolErrorText(err: unknown): string {
  if (err instanceof WorkspaceError) return `Error (${err.code}): ${err.message}`;
  return `Error: ${errorMessage(err)}`;
}

/** `rawInput` is what the model sent: parsed JSON, or the raw text when it was not valid JSON. */
export function validateToolInput(
  tool: ToolDefinition,
  rawInput: unknown,
): { ok: true; data: unknown } | { ok: false; output: string } {
  if (typeof rawInput === "string") {
    return {
      ok: false,
      output: `The arguments for ${tool.name} were not valid JSON, so the tool did not run. Call it again with one JSON object that matches its schema.`,
    };
  }
  const parsed = tool.input.safeParse(rawInput ?? {});
  if (!parsed.success) return { ok: false, output: describeInvalidInput(tool.name, parsed.error) };
  return { ok: true, data: parsed.data };
}

export function describeInvalidInput(toolName: string, error: z.ZodError): string {
  const lines = error.issues.slice(0, 10).map((issue) => {
    const where = issue.path.length ? issue.path.join(".") : "(arguments)";
    return `- ${where}: ${issue.message}`;
  });
  return `Invalid arguments for ${toolName}, so the tool did not run:\n${lines.join("\n")}\nFix the arguments and call it again.`;
}
