/**
 * A unified diff of two texts for the UI (edit and write results). Lines common to both ends are trimmed
 * first; the middle is compared with an LCS table only while it stays small, else shown as replaced —
 * the UI wants a readable summary, not a minimal patch of a generated file.
 */

const MAX_TABLE_CELLS = 4_000_000;
const CONTEXT = 3;

type Op = { kind: " " | "-" | "+"; text: string; oldLine: number; newLine: number };

export function unifiedDiff(path: string, before: string, after: string): string {
  if (before === after) return "";
  const a = splitLines(before);
  const b = splitLines(after);
  const ops = diffLines(a, b);
  const hunks = toHunks(ops);
  const header = `--- a/${path}\n+++ b/${path}\n`;
  return header + hunks.join("");
}

function splitLines(text: string): string[] {
  if (text === "") return [];
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}

function diffLines(a: string[], b: string[]): Op[] {
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const ops: Op[] = [];
  for (let i = 0; i < start; i++) ops.push({ kind: " ", text: a[i]!, oldLine: i + 1, newLine: i + 1 });
  ops.push(...middle(a.slice(start, endA), b.slice(start, endB), start));
  for (let i = endA, j = endB; i < a.length; i++, j++) {
    ops.push({ kind: " ", text: a[i]!, oldLine: i + 1, newLine: j + 1 });
  }
  return ops;
}

function middle(a: string[], b: string[], offset: number): Op[] {
  const n = a.length;
  const m = b.length;
  const ops: Op[] = [];
  if (n * m > MAX_TABLE_CELLS || n === 0 || m === 0) {
    for (const [i, text] of a.entries())
      ops.push({ kind: "-", text, oldLine: offset + i + 1, newLine: offset + 1 });
    for (const [j, text] of b.entries())
      ops.push({ kind: "+", text, oldLine: offset + n + 1, newLine: offset + j + 1 });
    return ops;
  }
  // lcs[i][j] = length of the LCS of a[i..] and b[j..], flattened.
  const lcs = new Uint32Array((n + 1) * (m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * (m + 1) + j] =
        a[i] === b[j]
          ? lcs[(i + 1) * (m + 1) + j + 1]! + 1
          : Math.max(lcs[(i + 1) * (m + 1) + j]!, lcs[i * (m + 1) + j + 1]!);
    }
  }
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      ops.push({ kind: " ", text: a[i]!, oldLine: offset + i + 1, newLine: offset + j + 1 });
      i++;
      j++;
    } else if (i < n && (j === m || lcs[(i + 1) * (m + 1) + j]! >= lcs[i * (m + 1) + j + 1]!)) {
      ops.push({ kind: "-", text: a[i]!, oldLine: offset + i + 1, newLine: offset + j + 1 });
      i++;
    } else {
      ops.push({ kind: "+", text: b[j]!, oldLine: offset + i + 1, newLine: offset + j + 1 });
      j++;
    }
  }
  return ops;
}

function toHunks(ops: Op[]): string[] {
  const hunks: string[] = [];
  let i = 0;
  while (i < ops.length) {
    while (i < ops.length && ops[i]!.kind === " ") i++;
    if (i >= ops.length) break;
    const start = Math.max(0, i - CONTEXT);
    let end = i;
    // Extend while the next change is within 2 × CONTEXT unchanged lines.
    for (;;) {
      while (end < ops.length && ops[end]!.kind !== " ") end++;
      let k = end;
      while (k < ops.length && ops[k]!.kind === " " && k - end < 2 * CONTEXT) k++;
      if (k < ops.length && ops[k]!.kind !== " ") end = k;
      else break;
    }
    const stop = Math.min(ops.length, end + CONTEXT);
    const slice = ops.slice(start, stop);
    const oldCount = slice.filter((o) => o.kind !== "+").length;
    const newCount = slice.filter((o) => o.kind !== "-").length;
    const first = slice[0]!;
    const oldStart = oldCount === 0 ? first.oldLine - 1 : first.oldLine;
    const newStart = newCount === 0 ? first.newLine - 1 : first.newLine;
    const body = slice.map((o) => `${o.kind}${o.text}\n`).join("");
    hunks.push(`@@ -${oldStart},${oldCount} +${newStart},${newCount} @@\n${body}`);
    i = stop;
  }
  return hunks;
}
