/**
 * One view of a request's conversation whichever API sent it, so responders can look at "the last user
 * message" or "the tool results so far" without caring about OpenAI vs Anthropic message shapes.
 */
import type { RecordedRequest } from "./types.ts";

export interface ConversationToolCall {
  id: string;
  name: string;
  /** Parsed arguments; the raw string when they were not JSON. */
  input: unknown;
}

export interface ConversationToolResult {
  toolCallId: string;
  output: string;
  isError: boolean;
}

export interface ConversationMessage {
  /** Anthropic user messages that carry tool results count as "tool", like OpenAI's tool messages. */
  role: "system" | "user" | "assistant" | "tool";
  text: string;
  toolCalls: ConversationToolCall[];
  toolResults: ConversationToolResult[];
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => v !== null && typeof v === "object" && !Array.isArray(v);

function message(role: ConversationMessage["role"], text: string): ConversationMessage {
  return { role, text, toolCalls: [], toolResults: [] };
}

/** Text of a string or of the text parts of a content array. */
function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .filter((part): part is Json => isObject(part) && part.type === "text" && typeof part.text === "string")
    .map((part) => part.text as string)
    .join("");
}

function parseArguments(args: unknown): unknown {
  if (typeof args !== "string") return args;
  try {
    return JSON.parse(args);
  } catch {
    return args;
  }
}

export function readConversation(request: RecordedRequest): ConversationMessage[] {
  const body = isObject(request.body) ? request.body : {};
  if (request.api === "openai" && body.messages === undefined && body.input !== undefined) {
    return readResponses(body.instructions, body.input);
  }
  const raw = Array.isArray(body.messages) ? body.messages.filter(isObject) : [];
  return request.api === "openai" ? readOpenAI(raw) : readAnthropic(body.system, raw);
}

/** Text of Responses content: a string or parts typed input_text / output_text. */
function responsesText(content: unknown): string {
  if (!Array.isArray(content)) return textOf(content);
  return content
    .filter((part): part is Json => isObject(part) && typeof part.text === "string")
    .map((part) => part.text as string)
    .join("");
}

function readResponses(instructions: unknown, input: unknown): ConversationMessage[] {
  const out: ConversationMessage[] = [];
  if (typeof instructions === "string") out.push(message("system", instructions));
  if (typeof input === "string") return [...out, message("user", input)];
  for (const item of Array.isArray(input) ? input.filter(isObject) : []) {
    if (item.type === "function_call") {
      const msg = message("assistant", "");
      msg.toolCalls.push({
        id: String(item.call_id ?? ""),
        name: String(item.name ?? ""),
        input: parseArguments(item.arguments),
      });
      out.push(msg);
    } else if (item.type === "function_call_output") {
      const msg = message("tool", "");
      msg.toolResults.push({
        toolCallId: String(item.call_id ?? ""),
        output: responsesText(item.output),
        isError: false,
      });
      out.push(msg);
    } else if (item.type === "item_reference") {
      // An earlier answer the client left on the (real) server's side: its text is not in the request.
      out.push(message("assistant", ""));
    } else if (item.role === "assistant") {
      out.push(message("assistant", responsesText(item.content)));
    } else if (item.role === "system" || item.role === "developer") {
      out.push(message("system", responsesText(item.content)));
    } else if (item.role === "user") {
      out.push(message("user", responsesText(item.content)));
    }
  }
  return out;
}

function readOpenAI(raw: Json[]): ConversationMessage[] {
  return raw.map((m) => {
    if (m.role === "tool") {
      const out = message("tool", "");
      out.toolResults.push({
        toolCallId: String(m.tool_call_id ?? ""),
        output: textOf(m.content),
        isError: false,
      });
      return out;
    }
    if (m.role === "assistant") {
      const out = message("assistant", textOf(m.content));
      for (const call of Array.isArray(m.tool_calls) ? m.tool_calls.filter(isObject) : []) {
        const fn = isObject(call.function) ? call.function : {};
        out.toolCalls.push({
          id: String(call.id ?? ""),
          name: String(fn.name ?? ""),
          input: parseArguments(fn.arguments),
        });
      }
      return out;
    }
    return message(m.role === "system" || m.role === "developer" ? "system" : "user", textOf(m.content));
  });
}

function readAnthropic(system: unknown, raw: Json[]): ConversationMessage[] {
  const out: ConversationMessage[] = [];
  if (system !== undefined) out.push(message("system", textOf(system)));
  for (const m of raw) {
    const blocks = Array.isArray(m.content) ? m.content.filter(isObject) : [];
    const msg = message(m.role === "assistant" ? "assistant" : "user", textOf(m.content));
    for (const block of blocks) {
      if (block.type === "tool_use") {
        msg.toolCalls.push({
          id: String(block.id ?? ""),
          name: String(block.name ?? ""),
          input: block.input,
        });
      } else if (block.type === "tool_result") {
        msg.role = "tool";
        msg.toolResults.push({
          toolCallId: String(block.tool_use_id ?? ""),
          output: textOf(block.content),
          isError: block.is_error === true,
        });
      }
    }
    out.push(msg);
  }
  return out;
}

/** The messages after the last message the user typed (that one included): what this agent turn has done. */
export function currentTurn(messages: ConversationMessage[]): ConversationMessage[] {
  const start = messages.findLastIndex((m) => m.role === "user");
  return start === -1 ? messages : messages.slice(start);
}

export function lastUserText(messages: ConversationMessage[]): string {
  return messages.findLast((m) => m.role === "user")?.text ?? "";
}
