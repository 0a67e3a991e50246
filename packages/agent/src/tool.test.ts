import { describe, expect, it } from "vitest";
import { z } from "zod";
import { toolHarness } from "./testing/harness.ts";
import { defineTool, toolInputJsonSchema } from "./tool.ts";
import { WorkspaceError } from "./workspace.ts";

const noWorkspace = {} as never;

const echo = defineTool({
  name: "echo",
  description: "Echo",
  input: z.object({
    text: z.string().max(10).describe("What to echo"),
    times: z.number().int().min(1).optional().describe("How often"),
  }),
  mutates: false,
  async execute(input) {
    return { output: input.text.repeat(input.times ?? 1), metadata: { ok: true } };
  },
});

describe("executeTool (the wrapper every tool goes through)", () => {
  it("validates input and explains every problem to the model instead of throwing", async () => {
    const h = toolHarness(noWorkspace);
    const result = await h.call(echo, { text: 42, times: 0 });
    expect(result.isError).toBe(true);
    expect(result.output).toContain("Invalid arguments for echo");
    expect(result.output).toMatch(/- text: .*string/);
    expect(result.output).toMatch(/- times: /);
  });

  it.each([null, undefined, [], "{not json", 7])(
    "refuses garbage input %j with a readable result",
    async (input) => {
      const result = await toolHarness(noWorkspace).call(echo, input);
      expect(result.isError).toBe(true);
      expect(result.output.length).toBeGreaterThan(10);
    },
  );

  it("tells the model when the arguments were not JSON at all", async () => {
    const result = await toolHarness(noWorkspace).call(echo, '{"text": "hi"');
    expect(result.output).toContain("not valid JSON");
  });

  it("passes metadata through and times the call", async () => {
    const result = await toolHarness(noWorkspace).call(echo, { text: "ab", times: 2 });
    expect(result).toMatchObject({ output: "abab", metadata: { ok: true }, isError: false });
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
  });

  it("turns a thrown error into an error result, with the workspace code when there is one", async () => {
    const failing = defineTool({
      name: "failing",
      description: "fails",
      input: z.object({}),
      mutates: false,
      async execute() {
        throw new WorkspaceError("path_outside_project", "../x leads outside");
      },
    });
    const result = await toolHarness(noWorkspace).call(failing, {});
    expect(result).toMatchObject({
      isError: true,
      output: "Error (path_outside_project): ../x leads outside",
    });
  });

  it("stops a call at its time limit even when the tool ignores its signal", async () => {
    const slow = defineTool({
      name: "slow",
      description: "never ends",
      input: z.object({}),
      mutates: false,
      timeoutMs: 20,
      execute: () => new Promise(() => {}),
    });
    const result = await toolHarness(noWorkspace).call(slow, {});
    expect(result.isError).toBe(true);
    expect(result.output).toContain("did not finish");
  });

  it("aborts a running call when the run is cancelled", async () => {
    let sawAbort = false;
    const waits = defineTool({
      name: "waits",
      description: "waits for abort",
      input: z.object({}),
      mutates: false,
      execute: (_i, ctx) =>
        new Promise((resolve) => {
          ctx.signal.addEventListener("abort", () => {
            sawAbort = true;
            resolve({ output: "late" });
          });
        }),
    });
    const controller = new AbortController();
    const pending = toolHarness(noWorkspace).call(waits, {}, controller.signal);
    setTimeout(() => controller.abort(), 5);
    const result = await pending;
    expect(sawAbort).toBe(true);
    expect(result).toMatchObject({ isError: true, output: "Cancelled by the user." });
  });

  it("keeps the head and tail of long output", async () => {
    const loud = defineTool({
      name: "loud",
      description: "prints a lot",
      input: z.object({}),
      mutates: false,
      maxOutputChars: 1000,
      async execute() {
        return { output: `START${"x".repeat(10_000)}END` };
      },
    });
    const result = await toolHarness(noWorkspace).call(loud, {});
    expect(result.output.length).toBeLessThan(1100);
    expect(result.output.startsWith("START")).toBe(true);
    expect(result.output.endsWith("END")).toBe(true);
    expect(result.output).toMatch(/characters .* omitted/);
  });

  it("refuses to define a tool with an undescribed field or a bad name", () => {
    expect(() =>
      defineTool({
        name: "x",
        description: "",
        input: z.object({ a: z.string() }),
        mutates: false,
        execute: async () => ({ output: "" }),
      }),
    ).toThrow(/no .describe/);
    expect(() =>
      defineTool({
        name: "Bad Name",
        description: "",
        input: z.object({}),
        mutates: false,
        execute: async () => ({ output: "" }),
      }),
    ).toThrow(/invalid tool name/);
  });

  it("shows the model a closed JSON Schema of the input", () => {
    expect(toolInputJsonSchema(echo)).toEqual({
      type: "object",
      properties: {
        text: { type: "string", maxLength: 10, description: "What to echo" },
        times: { type: "integer", minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: "How often" },
      },
      required: ["text"],
      additionalProperties: false,
    });
  });
});
