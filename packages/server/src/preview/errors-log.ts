import type { LogLine } from "../devserver/log-buffer.ts";

/**
 * Picks build and runtime errors out of a dev server's output: Vite's "[vite] Internal server error" and
 * pre-transform errors, esbuild/rolldown `[ERROR]`/`[PARSE_ERROR]` reports, TypeScript `error TS…`, Node's
 * `TypeError: …` with its stack, npm errors, and the dev server's own crash. The lines that follow an error
 * (indented code frames, `Plugin:`/`File:`, `at …` frames, box-drawn frames) are kept as its detail.
 */

export interface LogError {
  message: string;
  detail: string;
  count: number;
  firstAt: number;
  lastAt: number;
  /** Sequence number of the latest occurrence's first line. */
  seq: number;
}

const MAX_DETAIL_LINES = 40;
const MAX_DETAIL_CHARS = 4_000;
const MAX_MESSAGE_CHARS = 1_000;

// Vite prefixes its log lines with the time: `12:59:55 AM [vite] …`.
const TIMESTAMP = /^\s*\d{1,2}:\d{2}:\d{2}(?:\s?[AP]M)?\s+/i;

const STARTS: RegExp[] = [
  /\[vite\].*\b(?:error|failed)\b/i,
  /Internal server error/i,
  /Failed to (?:resolve|load|parse|compile) /,
  /\[plugin:[^\]]+\]/,
  /(?:^|\s)\[(?:ERROR|[A-Z]+(?:_[A-Z]+)*_ERROR)\]/,
  /\berror TS\d+:/,
  /^(?:Uncaught\s+)?(?:[A-Z][A-Za-z]*)?(?:Error|Exception)(?: \[[A-Z0-9_]+\])?: \S/,
  /^npm (?:ERR!|error) /,
  /^error(?:\[[^\]]*\])?:\s/i,
  /\bUnhandled (?:promise )?rejection\b/i,
  /\bUncaught exception\b/i,
];

// Lines that mention an error only as a file name or a count.
const NOT_ERRORS: RegExp[] = [/\[vite\].*\b(?:hmr update|page reload|hmr invalidate)\b/i, /\b0 errors?\b/i];

/** The dev server's own end, as the manager logs it (system stream). */
const CRASH = /^(?:dev server (?:exited with code (?!0\b)\d+|was killed|ran out of memory)|failed to start:)/;

export function isErrorStart(line: LogLine): boolean {
  const text = line.text.replace(TIMESTAMP, "");
  if (line.stream === "system") return CRASH.test(text);
  if (NOT_ERRORS.some((re) => re.test(text))) return false;
  return STARTS.some((re) => re.test(text));
}

// Rolldown's diagnostics inside a Vite error: a `[PARSE_ERROR] …` line and box-drawn frames, not indented.
const DIAGNOSTIC = /^(?:\[[A-Z_]+\]|[\u2500-\u257f])/;

function isContinuation(line: LogLine): boolean {
  if (line.stream === "system") return false;
  const text = line.text;
  return text.trim() === "" || /^\s/.test(text) || DIAGNOSTIC.test(text);
}

/** Whether `line` carries on the error above it rather than starting another one. */
function continues(line: LogLine): boolean {
  if (line.stream !== "system" && DIAGNOSTIC.test(line.text)) return true;
  return !isErrorStart(line) && isContinuation(line);
}

/**
 * The distinct errors in `lines` (oldest first), each with how often it occurred. Identical messages are
 * merged: a broken import is reported on every request for the module.
 */
export function extractLogErrors(lines: readonly LogLine[]): LogError[] {
  const byMessage = new Map<string, LogError>();
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    if (!isErrorStart(line)) {
      i++;
      continue;
    }
    const detail: string[] = [];
    let blanks = 0;
    let j = i + 1;
    for (; j < lines.length && detail.length < MAX_DETAIL_LINES; j++) {
      const next = lines[j]!;
      if (!continues(next)) break;
      blanks = next.text.trim() === "" ? blanks + 1 : 0;
      if (blanks >= 2) break;
      detail.push(next.text);
    }
    // A cut-off detail still skips the rest of its block, so its tail is not read as new errors.
    if (detail.length >= MAX_DETAIL_LINES) while (j < lines.length && continues(lines[j]!)) j++;
    while (detail.length && detail.at(-1)!.trim() === "") detail.pop();
    const message = line.text.replace(TIMESTAMP, "").trim().slice(0, MAX_MESSAGE_CHARS);
    const found = byMessage.get(message);
    if (found) {
      found.count++;
      found.lastAt = line.at;
      found.seq = line.seq;
      found.detail = joinDetail(detail) || found.detail;
      // Keep the map in order of the latest occurrence.
      byMessage.delete(message);
      byMessage.set(message, found);
    } else {
      byMessage.set(message, {
        message,
        detail: joinDetail(detail),
        count: 1,
        firstAt: line.at,
        lastAt: line.at,
        seq: line.seq,
      });
    }
    i = j;
  }
  return [...byMessage.values()];
}

function joinDetail(lines: string[]): string {
  return lines.join("\n").slice(0, MAX_DETAIL_CHARS);
}
