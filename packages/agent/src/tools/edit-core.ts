import { type Workspace, WorkspaceError } from "../workspace.ts";

/**
 * Search/replace as the model writes it. The rule that keeps edits safe: `old_string` must match exactly one
 * place (or `replace_all`). When it does not match, models have usually got whitespace wrong (tabs vs spaces,
 * a trailing space), so one unique whitespace-normalised match is accepted; anything else is an error that
 * shows the model what to fix.
 */

export interface Edit {
  old_string: string;
  new_string: string;
  replace_all?: boolean;
}

export type EditOutcome =
  | { ok: true; content: string; replacements: number; firstLine: number; whitespaceTolerant: boolean }
  | { ok: false; error: string };

export function applyEdit(content: string, edit: Edit, path: string): EditOutcome {
  if (edit.old_string === "") {
    return {
      ok: false,
      error: "old_string is empty. To create a file or replace all of it, use write_file.",
    };
  }
  if (edit.old_string === edit.new_string) {
    return { ok: false, error: "old_string and new_string are identical, so there is nothing to change." };
  }
  let oldString = edit.old_string;
  let newString = edit.new_string;
  // A CRLF file edited with LF snippets: match and write in the file's own line endings.
  if (content.includes("\r\n") && !oldString.includes("\r\n") && oldString.includes("\n")) {
    oldString = oldString.replaceAll("\n", "\r\n");
    newString = newString.replace(/\r?\n/g, "\r\n");
  }
  const positions = occurrences(content, oldString);
  if (positions.length === 1 || (positions.length > 1 && edit.replace_all)) {
    return {
      ok: true,
      content: content.split(oldString).join(newString),
      replacements: positions.length,
      firstLine: lineAt(content, positions[0]!),
      whitespaceTolerant: false,
    };
  }
  if (positions.length > 1) {
    const lines = positions.slice(0, 20).map((p) => lineAt(content, p));
    return {
      ok: false,
      error:
        `old_string matches ${positions.length} places in ${path} (lines ${lines.join(", ")}${positions.length > 20 ? ", …" : ""}). ` +
        "Include more surrounding lines in old_string so it matches exactly one place, or set replace_all to true to change every occurrence.",
    };
  }
  const fuzzy = normalisedMatches(content, oldString);
  if (fuzzy.length === 1) {
    const { start, end } = fuzzy[0]!;
    const replacement = adaptIndentation(content, start, oldString, newString);
    return {
      ok: true,
      content: content.slice(0, start) + replacement + content.slice(end),
      replacements: 1,
      firstLine: lineAt(content, start),
      whitespaceTolerant: true,
    };
  }
  if (fuzzy.length > 1) {
    const lines = fuzzy.slice(0, 20).map((m) => lineAt(content, m.start));
    return {
      ok: false,
      error:
        `old_string was not found exactly in ${path}; ignoring whitespace it matches ${fuzzy.length} places (lines ${lines.join(", ")}). ` +
        "Copy the exact text (read_file shows it) and include more surrounding lines.",
    };
  }
  return { ok: false, error: notFoundMessage(content, edit.old_string, path) };
}

export async function readIfText(workspace: Workspace, path: string): Promise<string | undefined> {
  try {
    return await workspace.readFile(path);
  } catch (err) {
    if (
      err instanceof WorkspaceError &&
      ["file_not_found", "file_binary", "file_too_large"].includes(err.code)
    ) {
      return undefined;
    }
    throw err;
  }
}

function occurrences(haystack: string, needle: string): number[] {
  const out: number[] = [];
  for (let i = haystack.indexOf(needle); i !== -1; i = haystack.indexOf(needle, i + needle.length))
    out.push(i);
  return out;
}

export function lineAt(content: string, index: number): number {
  let line = 1;
  for (let i = content.indexOf("\n"); i !== -1 && i < index; i = content.indexOf("\n", i + 1)) line++;
  return line;
}

/** Content with every whitespace run as one space, and where each kept character came from. */
function collapse(text: string): { text: string; starts: number[]; ends: number[] } {
  const chars: string[] = [];
  const starts: number[] = [];
  const ends: number[] = [];
  let i = 0;
  while (i < text.length) {
    if (isSpace(text.charCodeAt(i))) {
      const from = i;
      while (i < text.length && isSpace(text.charCodeAt(i))) i++;
      chars.push(" ");
      starts.push(from);
      ends.push(i);
    } else {
      chars.push(text[i]!);
      starts.push(i);
      ends.push(i + 1);
      i++;
    }
  }
  return { text: chars.join(""), starts, ends };
}

function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13) || c === 0xa0 || c === 0xfeff || c === 0x2028 || c === 0x2029;
}

function normalisedMatches(content: string, oldString: string): Array<{ start: number; end: number }> {
  const needle = collapse(oldString.trim()).text;
  if (needle === "" || needle === " ") return [];
  const hay = collapse(content);
  const out: Array<{ start: number; end: number }> = [];
  for (let i = hay.text.indexOf(needle); i !== -1; i = hay.text.indexOf(needle, i + needle.length)) {
    out.push({ start: hay.starts[i]!, end: hay.ends[i + needle.length - 1]! });
    if (out.length > 20) break;
  }
  return out;
}

/**
 * The match starts at the first non-blank character and ends at the last one, so the file's own indentation
 * and line end stay; trim the same from new_string and move its other lines to the file's indentation.
 */
function adaptIndentation(content: string, start: number, oldString: string, newString: string): string {
  const oldLead = /^\s*/.exec(oldString)![0];
  const oldTrail = /\s*$/.exec(oldString)![0];
  let out = newString;
  if (oldLead && out.startsWith(oldLead)) out = out.slice(oldLead.length);
  else if (oldLead) out = out.replace(/^[ \t]*/, "");
  if (oldTrail && out.endsWith(oldTrail)) out = out.slice(0, out.length - oldTrail.length);
  const lineStart = content.lastIndexOf("\n", start - 1) + 1;
  const fileIndent = /^[ \t]*/.exec(content.slice(lineStart))![0];
  const oldIndent = /^[ \t]*/.exec(oldLead.split("\n").pop() ?? "")![0];
  if (fileIndent === oldIndent) return out;
  return out
    .split("\n")
    .map((line, i) =>
      i > 0 && line.startsWith(oldIndent) ? fileIndent + line.slice(oldIndent.length) : line,
    )
    .join("\n");
}

function notFoundMessage(content: string, oldString: string, path: string): string {
  const fileLines = content.split("\n");
  const wanted = oldString.split("\n").map(norm);
  while (wanted.length > 1 && wanted[wanted.length - 1] === "") wanted.pop();
  const normLines = fileLines.map(norm);
  let best = -1;
  let bestScore = 0;
  let threshold = 0.25 * wanted.length;
  if (normLines.length * wanted.length > 200_000) {
    // Big file: locate by the longest wanted line alone.
    const k0 = wanted.reduce((bi, w, k) => (w.length > wanted[bi]!.length ? k : bi), 0);
    for (let i = 0; i < normLines.length; i++) {
      const score = similarity(normLines[i]!, wanted[k0]!);
      if (score > bestScore) {
        bestScore = score;
        best = Math.max(0, i - k0);
      }
    }
    threshold = 0.5;
  } else {
    for (let i = 0; i < normLines.length; i++) {
      let score = 0;
      for (let k = 0; k < wanted.length && i + k < normLines.length; k++) {
        score += similarity(normLines[i + k]!, wanted[k]!);
      }
      if (score > bestScore) {
        bestScore = score;
        best = i;
      }
    }
  }
  const base = `old_string was not found in ${path}.`;
  if (best === -1 || bestScore < threshold) {
    return `${base} Nothing in the file looks similar; read the file again (read_file) and copy the exact text.`;
  }
  const from = Math.max(0, best - 1);
  const to = Math.min(fileLines.length, best + wanted.length + 1);
  const width = String(to).length;
  const region = fileLines
    .slice(from, to)
    .map(
      (line, i) =>
        `${String(from + i + 1).padStart(width, " ")}\t${line.length > 300 ? `${line.slice(0, 300)}…` : line}`,
    )
    .join("\n");
  return `${base} The closest text is at lines ${from + 1}-${to}:\n${region}\nCopy the exact characters from the file (the line numbers are not part of it) and try again.`;
}

function norm(line: string): string {
  return line.trim().replace(/\s+/g, " ");
}

/** Dice coefficient over character bigrams: 1 for equal lines, near 0 for unrelated ones. */
function similarity(a: string, b: string): number {
  if (a === b) return a === "" ? 0.2 : 1;
  if (a.length < 2 || b.length < 2) return 0;
  const grams = new Map<string, number>();
  for (let i = 0; i < a.length - 1; i++) {
    const g = a.slice(i, i + 2);
    grams.set(g, (grams.get(g) ?? 0) + 1);
  }
  let hits = 0;
  for (let i = 0; i < b.length - 1; i++) {
    const g = b.slice(i, i + 2);
    const n = grams.get(g) ?? 0;
    if (n > 0) {
      hits++;
      grams.set(g, n - 1);
    }
  }
  return (2 * hits) / (a.length - 1 + b.length - 1);
}
