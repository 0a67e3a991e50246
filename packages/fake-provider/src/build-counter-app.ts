/**
 * A demo agent run on the react-vite template: look around, add src/Counter.tsx, wire it into src/App.tsx
 * (edits built from the file as read_file returned it), check with bash, summarise. The next step is chosen
 * from the tool results already in this turn, never from a request counter, so retries, either API format
 * and a second run in the same chat all work.
 */
import {
  type ConversationToolCall,
  type ConversationToolResult,
  currentTurn,
  readConversation,
} from "./conversation.ts";
import type { Reply, Responder } from "./types.ts";

export const COUNTER_PATH = "src/Counter.tsx";
export const APP_PATH = "src/App.tsx";
export const COUNTER_IMPORT = 'import { Counter } from "./Counter.tsx";';

export const COUNTER_SOURCE = `import { useState } from "react";

export function Counter() {
  const [count, setCount] = useState(0);

  return (
    <button
      type="button"
      onClick={() => setCount((c) => c + 1)}
      className="mt-6 rounded-lg border border-orange-300 bg-white px-4 py-2 font-medium text-orange-700 shadow-sm hover:bg-orange-50"
    >
      Count: {count}
    </button>
  );
}
`;

const FALLBACK_APP = `${COUNTER_IMPORT}

export function App() {
  return (
    <main className="flex min-h-screen flex-col items-center justify-center gap-4">
      <h1 className="text-3xl font-bold">Counter</h1>
      <Counter />
    </main>
  );
}
`;

export const COUNTER_APP_SUMMARY =
  "Done! I added `src/Counter.tsx`, a small React component with a button that shows “Count: N” and " +
  "counts up on each click, and `src/App.tsx` now imports it and renders it right under the heading. " +
  "The preview should show the button; click it to try it.";

interface Exchange {
  call: ConversationToolCall;
  result: ConversationToolResult | undefined;
}

const normalizePath = (p: unknown) => (typeof p === "string" ? p.replace(/^(\.\/|\/)+/, "") : "");
const arg = (call: ConversationToolCall, key: string): unknown =>
  call.input && typeof call.input === "object" ? (call.input as Record<string, unknown>)[key] : undefined;

function failed(result: ConversationToolResult | undefined): boolean {
  return (
    result !== undefined &&
    (result.isError || /\berror\b|not found|no match|failed|not unique/i.test(result.output))
  );
}

export function buildCounterApp(): Responder {
  return (request) => {
    const turn = currentTurn(readConversation(request));
    const results = new Map(turn.flatMap((m) => m.toolResults).map((r) => [r.toolCallId, r]));
    const exchanges: Exchange[] = turn
      .flatMap((m) => m.toolCalls)
      .map((call) => ({ call, result: results.get(call.id) }));
    const find = (name: string, match: (call: ConversationToolCall) => boolean = () => true) =>
      exchanges.filter((e) => e.call.name === name && match(e.call));
    const onPath = (path: string) => (call: ConversationToolCall) =>
      normalizePath(arg(call, "path")) === path;

    if (find("list_files").length === 0) {
      return say("Let me look at the project first.", { name: "list_files", arguments: { path: "." } });
    }
    if (find("write_file", onPath(COUNTER_PATH)).length === 0) {
      return say("I'll add a small counter component.", {
        name: "write_file",
        arguments: { path: COUNTER_PATH, content: COUNTER_SOURCE },
      });
    }
    const reads = find("read_file", onPath(APP_PATH)).filter((e) => e.result);
    const read = reads.at(-1);
    if (!read) {
      return say("Now let me read src/App.tsx to see where it fits.", {
        name: "read_file",
        arguments: { path: APP_PATH },
      });
    }
    const next = nextAppChange(
      read.result!,
      find("edit_file", onPath(APP_PATH)),
      find("write_file", onPath(APP_PATH)),
    );
    if (next) return next;
    if (find("bash").length === 0) {
      return say("Let me check the result.", {
        name: "bash",
        arguments: { command: "ls src && cat package.json | head -5" },
      });
    }
    return { text: COUNTER_APP_SUMMARY };
  };
}

/** The edit (or, when edits cannot work, the full write) still needed on App.tsx; undefined when done. */
function nextAppChange(
  read: ConversationToolResult,
  edits: Exchange[],
  writes: Exchange[],
): Reply | undefined {
  if (writes.length > 0) return undefined;
  const content = read.isError ? "" : fileContent(read.output);
  const writeWhole = () =>
    say("The edit did not apply, so I'll write the whole file.", {
      name: "write_file",
      arguments: { path: APP_PATH, content: withCounter(content) },
    });
  if (edits.some((e) => failed(e.result))) return writeWhole();

  const newString = (e: Exchange) => String(arg(e.call, "new_string") ?? "");
  const applied = (marker: string) =>
    content.includes(marker) || edits.some((e) => newString(e).includes(marker));
  if (!applied("<Counter")) {
    const line = uniqueLine(content, (l) => l.includes("</h1>"));
    if (line === undefined) return writeWhole();
    const indent = /^\s*/.exec(line)?.[0] ?? "";
    return say("I'll render the counter under the heading.", {
      name: "edit_file",
      arguments: { path: APP_PATH, old_string: line, new_string: `${line}\n${indent}<Counter />` },
    });
  }
  if (!applied(COUNTER_IMPORT)) {
    const line = uniqueLine(content, (l) => l.startsWith("import "));
    if (line === undefined) return writeWhole();
    return say("And import it at the top.", {
      name: "edit_file",
      arguments: { path: APP_PATH, old_string: line, new_string: `${line}\n${COUNTER_IMPORT}` },
    });
  }
  return undefined;
}

function say(text: string, call: { name: string; arguments: Record<string, unknown> }): Reply {
  return { text, toolCalls: [call] };
}

/** The first line matching, if it occurs only once in the file (so it is a safe `old_string`). */
function uniqueLine(content: string, match: (line: string) => boolean): string | undefined {
  const lines = content.split("\n");
  const line = lines.find(match);
  if (line === undefined || line.trim() === "") return undefined;
  return lines.filter((l) => l === line).length === 1 ? line : undefined;
}

/** App.tsx with the import and `<Counter />` added, or a minimal App when the file has no heading. */
export function withCounter(content: string): string {
  if (!content.includes("</h1>")) return FALLBACK_APP;
  let next = content;
  if (!next.includes("<Counter")) {
    const lines = next.split("\n");
    const i = lines.findIndex((l) => l.includes("</h1>"));
    const indent = /^\s*/.exec(lines[i]!)?.[0] ?? "";
    lines.splice(i + 1, 0, `${indent}<Counter />`);
    next = lines.join("\n");
  }
  if (!next.includes(COUNTER_IMPORT)) next = `${COUNTER_IMPORT}\n${next}`;
  return next;
}

const NUMBERED = /^\s*\d+(?:\t|→|\| ?|: )/;

/**
 * The file text inside a read_file result. Tools often number lines (`    12\t…`, `00012| …`) or wrap the
 * text in a header; when most lines are numbered, only the numbered lines count, without their numbers.
 */
export function fileContent(output: string): string {
  let text = output;
  try {
    const parsed: unknown = JSON.parse(output);
    if (typeof parsed === "string") text = parsed;
    else if (
      parsed &&
      typeof parsed === "object" &&
      typeof (parsed as { content?: unknown }).content === "string"
    ) {
      text = (parsed as { content: string }).content;
    }
  } catch {
    // Plain text, the usual case.
  }
  const lines = text.split("\n");
  const nonEmpty = lines.filter((l) => l.trim() !== "");
  const numbered = lines.filter((l) => NUMBERED.test(l));
  if (nonEmpty.length === 0 || numbered.length < nonEmpty.length * 0.8) return text;
  return numbered.map((l) => l.replace(NUMBERED, "")).join("\n");
}
