import { parentPort, workerData } from "node:worker_threads";

/**
 * Runs a caller's regular expression over file texts in a worker, so the parent can terminate it: V8's
 * backtracking engine cannot be interrupted, and `(a+)+$` against a long line would otherwise hang the server.
 * Plain Node (no imports from the app), as it is started from its own file.
 */

interface Input {
  source: string;
  flags: string;
  files: Array<{ path: string; text: string }>;
  maxResults: number;
  maxLineChars: number;
}

const { source, flags, files, maxResults, maxLineChars } = workerData as Input;
const pattern = new RegExp(source, flags);
const matches: Array<{ path: string; line: number; text: string }> = [];
let truncated = false;
search: for (const file of files) {
  const lines = file.text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (!pattern.test(line)) continue;
    if (matches.length >= maxResults) {
      truncated = true;
      break search;
    }
    matches.push({ path: file.path, line: i + 1, text: line.slice(0, maxLineChars) });
  }
}
parentPort?.postMessage({ matches, truncated });
