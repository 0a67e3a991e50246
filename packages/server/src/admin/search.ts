export const PAGE_DEFAULT = 50;

/** `q` as a LIKE pattern that matches it anywhere, its own % and _ taken literally. */
export function contains(q: string): string {
  return `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}
