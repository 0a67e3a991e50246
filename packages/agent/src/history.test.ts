import { describe, expect, it } from "vitest";
import { INTERRUPTED_RESULT, toModelMessages } from "./history.ts";

const tool = (
  id: string,
  state: "done" | "error" | "rejected" | "running" | "awaiting-approval",
  output?: string,
) => ({
  type: "tool" as const,
  toolCallId: id,
  toolName: "read_file",
  input: { path: "a.ts" },
  state,
  ...(output !== undefined ? { output } : {}),
});

describe("toModelMessages", () => {
  it("turns each step of an assistant message into a call message and a result message, in order", () => {
    const messages = toModelMessages([
      { role: "user", text: "Fix it" },
      {
        role: "assistant",
        parts: [
          { type: "reasoning", text: "thinking" },
          { type: "text", text: "Let me look." },
          tool("c1", "done", "content"),
          tool("c2", "error", "Error (file_not_found): no such file"),
          { type: "text", text: "Now " },
          { type: "text", text: "editing." },
          tool("c3", "rejected", "The user rejected this tool call"),
          { type: "text", text: "Done." },
        ],
      },
    ]);
    expect(messages).toEqual([
      { role: "user", content: "Fix it" },
      {
        role: "assistant",
        content: [
          { type: "text", text: "Let me look." },
          { type: "tool-call", toolCallId: "c1", toolName: "read_file", input: { path: "a.ts" } },
          { type: "tool-call", toolCallId: "c2", toolName: "read_file", input: { path: "a.ts" } },
        ],
      },
      {
        role: "tool",
        content: [
          {
            type: "tool-result",
            toolCallId: "c1",
            toolName: "read_file",
            output: { type: "text", value: "content" },
          },
          {
            type: "tool-result",
            toolCallId: "c2",
            toolName: "read_file",
            output: { type: "error-text", value: "Error (file_not_found): no such file" },
          },
        ],
      },
      {
        role: "assistant",
        content: [
          { type: "text", text: "Now editing." },
          { type: "tool-call", toolCallId: "c3", toolName: "read_file", input: { path: "a.ts" } },
        ],
      },
      {
        role: "tool",
        content: [
          {
            type: "tool-result",
            toolCallId: "c3",
            toolName: "read_file",
            output: { type: "error-text", value: "The user rejected this tool call" },
          },
        ],
      },
      { role: "assistant", content: [{ type: "text", text: "Done." }] },
    ]);
  });

  it("gives interrupted calls a result so the provider accepts the history", () => {
    const messages = toModelMessages([
      { role: "user", text: "Go" },
      { role: "assistant", parts: [tool("c1", "running"), tool("c2", "awaiting-approval")] },
      { role: "user", text: "Continue" },
    ]);
    expect(messages[2]).toEqual({
      role: "tool",
      content: [
        {
          type: "tool-result",
          toolCallId: "c1",
          toolName: "read_file",
          output: { type: "error-text", value: INTERRUPTED_RESULT },
        },
        {
          type: "tool-result",
          toolCallId: "c2",
          toolName: "read_file",
          output: { type: "error-text", value: INTERRUPTED_RESULT },
        },
      ],
    });
    expect(messages[3]).toEqual({ role: "user", content: "Continue" });
  });

  it("sends a user message's images as file parts after its text; an image whose bytes are missing is left out", () => {
    const data = new Uint8Array([0x89, 0x50, 0x4e, 0x47]);
    const images = new Map([["img-1", { mediaType: "image/png", data }]]);
    const out = toModelMessages(
      [
        { role: "user", parts: [{ type: "text", text: "first" }] },
        {
          role: "user",
          parts: [
            { type: "text", text: "look" },
            { type: "image", imageId: "img-1", mediaType: "image/png" },
            { type: "image", imageId: "gone", mediaType: "image/png" },
          ],
        },
        { role: "user", parts: [{ type: "text", text: "and this" }] },
      ],
      images,
    );
    // Consecutive user turns still merge into one message, now with content parts.
    expect(out).toEqual([
      {
        role: "user",
        content: [
          { type: "text", text: "first" },
          { type: "text", text: "look" },
          { type: "file", data, mediaType: "image/png" },
          { type: "text", text: "and this" },
        ],
      },
    ]);
  });

  it("starts from the latest compaction summary", () => {
    const messages = toModelMessages([
      { role: "user", text: "old request" },
      { role: "assistant", parts: [{ type: "text", text: "old answer" }] },
      { role: "user", text: "build it" },
      {
        role: "assistant",
        parts: [
          tool("c1", "done", "x"),
          { type: "compaction", summary: "SUMMARY" },
          { type: "text", text: "after" },
        ],
      },
      { role: "user", parts: [{ type: "text", text: "next" }] },
    ]);
    expect(messages).toEqual([
      { role: "user", content: "[Earlier conversation, summarised to save context]\n\nSUMMARY" },
      { role: "assistant", content: [{ type: "text", text: "after" }] },
      { role: "user", content: "next" },
    ]);
  });

  it("merges consecutive user messages, skips empty ones, fixes odd inputs and repeated ids", () => {
    const messages = toModelMessages([
      { role: "user", text: "one" },
      { role: "assistant", parts: [{ type: "error", code: "model_error", message: "boom" }] },
      { role: "user", text: "two" },
      { role: "user", text: "   " },
      { role: "assistant", parts: [{ ...tool("call_0", "done", "a"), input: "not json" }] },
      { role: "assistant", parts: [tool("call_0", "done", "b")] },
    ]);
    expect(messages[0]).toEqual({ role: "user", content: "one\n\ntwo" });
    expect(messages[1]).toMatchObject({ content: [{ toolCallId: "call_0", input: {} }] });
    expect(messages[3]).toMatchObject({ content: [{ toolCallId: "call_0_2" }] });
    expect(messages[4]).toMatchObject({ content: [{ toolCallId: "call_0_2" }] });
  });
});
