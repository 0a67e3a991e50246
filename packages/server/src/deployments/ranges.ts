/**
 * One `Range: bytes=…` header against a file's size (RFC 9110 §14). Only a single range is honoured:
 * several ranges, other units and malformed headers are ignored, which the RFC allows, and the whole
 * file is sent instead (a multipart answer would be code no browser or media player needs here).
 */
export type RangePlan =
  | { kind: "full" }
  | { kind: "partial"; start: number; end: number }
  | { kind: "unsatisfiable" };

const FULL: RangePlan = { kind: "full" };
const UNSATISFIABLE: RangePlan = { kind: "unsatisfiable" };
const SINGLE = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i;

export function planRange(header: string | undefined, size: number): RangePlan {
  const match = header === undefined ? null : SINGLE.exec(header);
  if (!match) return FULL;
  const [, first = "", last = ""] = match;
  if (first === "" && last === "") return FULL;
  if (first === "") {
    // A suffix: the last n bytes, all of them when n is larger than the file.
    const length = Number(last);
    if (length === 0 || size === 0) return UNSATISFIABLE;
    return { kind: "partial", start: Math.max(0, size - length), end: size - 1 };
  }
  const start = Number(first);
  if (last !== "" && Number(last) < start) return FULL;
  if (start >= size) return UNSATISFIABLE;
  return { kind: "partial", start, end: last === "" ? size - 1 : Math.min(Number(last), size - 1) };
}
