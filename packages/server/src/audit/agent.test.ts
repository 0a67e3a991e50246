import { PLAN_MODE_REFUSAL } from "@kiln/agent";
import type { AgentEvent } from "@kiln/protocol";
import { describe, expect, it } from "vitest";
import { modelCallEntry, ToolCallLedger } from "./agent.ts";
import { assertNoSecrets, digestOf } from "./record.ts";

const m = "msg-1";
const start = (id: string, input: unknown): AgentEvent => ({
  type: "tool-call-start",
  messageId: m,
  toolCallId: id,
  toolName: "write_file",
  input,
});
const end = (id: string, isError: boolean, output = "out"): AgentEvent => ({
  type: "tool-call-end",
  messageId: m,
  toolCallId: id,
  toolName: "write_file",
  output,
  isError,
  durationMs: 1,
});

describe("ToolCallLedger", () => {
  it("gives each ended call its arguments' digest and outcome, and forgets it", () => {
    const ledger = new ToolCallLedger();
    const args = { path: "a.txt", content: "secret file text" };
    expect(ledger.observe(start("c1", args))).toBeUndefined();
    expect(ledger.observe({ type: "text-delta", messageId: m, delta: "x" })).toBeUndefined();
    expect(ledger.openCount).toBe(1);
    const call = ledger.observe(end("c1", false));
    expect(call).toEqual({
      tool: "write_file",
      toolCallId: "c1",
      argsDigest: digestOf({ content: "secret file text", path: "a.txt" }),
      outcome: "ok",
      messageId: m,
    });
    expect(JSON.stringify(call)).not.toContain("secret file text");
    expect(ledger.openCount).toBe(0);
  });

  it("tells error from denied (a rejection, a timeout, plan mode)", () => {
    const ledger = new ToolCallLedger();
    for (const id of ["e", "r", "t", "p"]) ledger.observe(start(id, { id }));
    ledger.observe({ type: "approval-resolved", messageId: m, toolCallId: "r", decision: "reject" });
    ledger.observe({ type: "approval-resolved", messageId: m, toolCallId: "t", decision: "timeout" });
    expect(ledger.observe(end("e", true))?.outcome).toBe("error");
    expect(ledger.observe(end("r", true))?.outcome).toBe("denied");
    expect(ledger.observe(end("t", true))?.outcome).toBe("denied");
    expect(ledger.observe(end("p", true, PLAN_MODE_REFUSAL))?.outcome).toBe("denied");
  });

  it("an end whose start it did not see has no digest (the caller reads it back)", () => {
    expect(new ToolCallLedger().observe(end("x", false))).toMatchObject({ argsDigest: null, outcome: "ok" });
  });
});

describe("modelCallEntry", () => {
  const call = {
    id: "11111111-1111-4111-8111-111111111111",
    orgId: "o",
    provider: "openai",
    model: "m",
    status: "ok",
    errorCode: null,
    inputTokens: 10,
    outputTokens: 2,
  };

  it("a person's proxy call is theirs; a chat's or a job's is the agent's, for its person", () => {
    expect(modelCallEntry({ ...call, source: "proxy", userId: "u" }).actor).toEqual({
      type: "user",
      userId: "u",
    });
    expect(modelCallEntry({ ...call, source: "chat", userId: "u" }).actor).toEqual({
      type: "agent",
      userId: "u",
    });
    expect(modelCallEntry({ ...call, source: "job", onBehalfOf: "r" }).actor).toEqual({
      type: "agent",
      userId: "r",
    });
    expect(modelCallEntry({ ...call, source: "job" }).actor).toEqual({ type: "agent", userId: null });
  });

  it("its token counts pass the secret check; a key that may hold a token still does not", () => {
    expect(() => assertNoSecrets(modelCallEntry({ ...call, source: "chat" }).data)).not.toThrow();
    expect(() => assertNoSecrets({ apiTokens: ["x"] })).toThrow();
    expect(() => assertNoSecrets({ token: "x" })).toThrow();
  });
});
