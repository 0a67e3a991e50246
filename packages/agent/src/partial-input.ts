/** Fields that name what a call touches; the UI's one-line summary reads the same ones. */
const SHOWN = new Set(["command", "path", "pattern", "query", "url", "from", "to"]);
const MAX_VALUE = 500;

/**
 * The short string fields (`path`, `command`…) a model has finished writing at the top level of a call's
 * JSON arguments that are still streaming. Anything unfinished, nested or not a string is left out; text
 * that is not a JSON object gives nothing.
 */
export function finishedFields(text: string): Record<string, string> {
  return new FieldReader().read(text);
}

/**
 * `finishedFields` for arguments that stream in: each `read` gets the text so far (the previous text plus
 * more) and goes on from where the last one stopped, so a call whose arguments arrive in ten thousand
 * pieces (a long `write_file`) is read once in all, not once per piece.
 */
export class FieldReader {
  readonly #fields: Record<string, string> = {};
  /** Where the next top-level member starts; -1 until the opening brace is seen. */
  #member = -1;
  /** The text is not an object, or its object ended or broke: nothing more will be read. */
  #stopped = false;
  /** How far an unfinished string starting at `at` has been scanned (just past its last complete char). */
  #string: { at: number; j: number } | undefined;
  /** How far an unfinished non-string value starting at `at` has been scanned, and how deep it is there. */
  #value: { at: number; j: number; depth: number } | undefined;

  /** The finished short fields of `text` (a copy: later reads do not change it). */
  read(text: string): Record<string, string> {
    if (!this.#stopped && this.#member < 0) {
      const i = skipSpace(text, 0);
      if (i < text.length) {
        if (text[i] === "{") this.#member = i + 1;
        else this.#stopped = true;
      }
    }
    while (!this.#stopped && this.#member >= 0) {
      const next = this.#readMember(text, this.#member);
      if (next === undefined) break;
      if (next === null) this.#stopped = true;
      else this.#member = next;
    }
    return { ...this.#fields };
  }

  /** After one member and its comma: the next member's start; undefined: unfinished; null: no more. */
  #readMember(text: string, start: number): number | null | undefined {
    let i = skipSpace(text, start);
    if (i >= text.length) return undefined;
    if (text[i] !== '"') return null;
    const key = this.#readString(text, i);
    if (!key) return key;
    i = skipSpace(text, key.end);
    if (i >= text.length) return undefined;
    if (text[i] !== ":") return null;
    i = skipSpace(text, i + 1);
    if (i >= text.length) return undefined;
    if (text[i] === '"') {
      const value = this.#readString(text, i);
      if (!value) return value;
      if (SHOWN.has(key.value) && value.value.length <= MAX_VALUE) this.#fields[key.value] = value.value;
      i = value.end;
    } else {
      const end = this.#skipValue(text, i);
      if (end === undefined || end === null) return end;
      i = end;
    }
    i = skipSpace(text, i);
    if (i >= text.length) return undefined;
    return text[i] === "," ? i + 1 : null;
  }

  /** A complete JSON string starting at `i` (a quote); undefined: not ended yet; null: not valid JSON. */
  #readString(text: string, i: number): { value: string; end: number } | null | undefined {
    let j = this.#string?.at === i ? this.#string.j : i + 1;
    while (j < text.length) {
      const c = text[j];
      if (c === "\\") j += 2;
      else if (c === '"') {
        if (this.#string?.at === i) this.#string = undefined;
        try {
          return { value: JSON.parse(text.slice(i, j + 1)) as string, end: j + 1 };
        } catch {
          return null;
        }
      } else j++;
    }
    this.#string = { at: i, j };
    return undefined;
  }

  /** The end of a complete non-string value (number, literal, object, array); undefined: not yet. */
  #skipValue(text: string, i: number): number | null | undefined {
    const resumed = this.#value?.at === i ? this.#value : undefined;
    let depth = resumed?.depth ?? 0;
    let j = resumed?.j ?? i;
    while (j < text.length) {
      const c = text[j]!;
      if (c === '"') {
        const s = this.#readString(text, j);
        if (s === null) return null;
        if (!s) {
          this.#value = { at: i, j, depth };
          return undefined;
        }
        j = s.end;
        continue;
      }
      if (c === "{" || c === "[") depth++;
      else if (c === "}" || c === "]") {
        if (depth === 0) return this.#ended(j);
        depth--;
        if (depth === 0) return this.#ended(j + 1);
      } else if (depth === 0 && (c === "," || /\s/.test(c))) return this.#ended(j);
      j++;
    }
    this.#value = { at: i, j, depth };
    return undefined;
  }

  #ended(end: number): number {
    this.#value = undefined;
    return end;
  }
}

function skipSpace(text: string, i: number): number {
  while (i < text.length && /\s/.test(text[i]!)) i++;
  return i;
}
