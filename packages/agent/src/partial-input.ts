/** Fields that name what a call touches; the UI's one-line summary reads the same ones. */
const SHOWN = new Set(["command", "path", "pattern", "query", "url", "from", "to"]);
const MAX_VALUE = 500;

/**
 * The short string fields (`path`, `command`…) a model has finished writing at the top level of a call's
 * JSON arguments that are still streaming. Anything unfinished, nested or not a string is left out; text
 * that is not a JSON object gives nothing.
 */
export function finishedFields(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  let i = skipSpace(text, 0);
  if (text[i] !== "{") return out;
  i++;
  for (;;) {
    i = skipSpace(text, i);
    if (text[i] !== '"') return out;
    const key = readString(text, i);
    if (!key) return out;
    i = skipSpace(text, key.end);
    if (text[i] !== ":") return out;
    i = skipSpace(text, i + 1);
    if (i >= text.length) return out;
    if (text[i] === '"') {
      const value = readString(text, i);
      if (!value) return out;
      if (SHOWN.has(key.value) && value.value.length <= MAX_VALUE) out[key.value] = value.value;
      i = value.end;
    } else {
      const end = skipValue(text, i);
      if (end === undefined) return out;
      i = end;
    }
    i = skipSpace(text, i);
    if (text[i] !== ",") return out;
    i++;
  }
}

function skipSpace(text: string, i: number): number {
  while (i < text.length && /\s/.test(text[i]!)) i++;
  return i;
}

/** A complete JSON string starting at `i` (a quote), or undefined when it has not ended yet. */
function readString(text: string, i: number): { value: string; end: number } | undefined {
  let j = i + 1;
  while (j < text.length) {
    const c = text[j];
    if (c === "\\") j += 2;
    else if (c === '"') {
      try {
        return { value: JSON.parse(text.slice(i, j + 1)) as string, end: j + 1 };
      } catch {
        return undefined;
      }
    } else j++;
  }
  return undefined;
}

/** The end of a complete non-string value (number, literal, object, array), or undefined. */
function skipValue(text: string, i: number): number | undefined {
  let depth = 0;
  let j = i;
  while (j < text.length) {
    const c = text[j]!;
    if (c === '"') {
      const s = readString(text, j);
      if (!s) return undefined;
      j = s.end;
      continue;
    }
    if (c === "{" || c === "[") depth++;
    else if (c === "}" || c === "]") {
      if (depth === 0) return j;
      depth--;
      if (depth === 0) return j + 1;
    } else if (depth === 0 && (c === "," || /\s/.test(c))) return j;
    j++;
  }
  return undefined;
}
