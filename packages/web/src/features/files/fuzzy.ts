import { basename } from "../../lib/paths.ts";

/** Scores a fuzzy match: every query character in order, tighter and earlier runs first; -1 if none. */
export function fuzzyScore(query: string, text: string): number {
  const q = query.toLowerCase();
  const t = text.toLowerCase();
  let score = 0;
  let at = -1;
  for (const ch of q) {
    const next = t.indexOf(ch, at + 1);
    if (next < 0) return -1;
    score += next === at + 1 ? 3 : 1;
    at = next;
  }
  // Matches in the file name beat matches in folder names.
  if (basename(t).includes(q)) score += 10;
  return score - t.length / 100;
}
