import { Worker } from "node:worker_threads";
import type { SearchMatch, SearchResult } from "@kiln/protocol";
import { KilnError } from "../errors/errors.ts";
import { asText } from "./content.ts";
import { globToRegExp } from "./paths.ts";
import { type Dir, openFileForRead, type ProjectRoot } from "./project-root.ts";
import { walk } from "./walk.ts";

export interface SearchLimits {
  /** Larger files are not searched by content. */
  maxFileBytes: number;
  /** Total bytes read per search; the result is `truncated` beyond it. */
  maxScanBytes: number;
  /** Wall-clock limit of a regular expression search. */
  regexTimeoutMs: number;
}

export interface SearchInput {
  query: string;
  mode: "content" | "name";
  regex: boolean;
  caseSensitive: boolean;
  includeIgnored: boolean;
  maxResults: number;
}

const MAX_LINE_CHARS = 500;

export const isGitName = (name: string) => name.toLowerCase() === ".git";

export async function searchFiles(
  root: ProjectRoot,
  start: Dir,
  input: SearchInput,
  limits: SearchLimits,
): Promise<SearchResult> {
  const skip = (name: string) => isGitName(name) || (!input.includeIgnored && name === "node_modules");
  const matches: SearchMatch[] = [];
  let truncated = false;

  if (input.mode === "name") {
    const wanted = /[*?]/.test(input.query) ? globToRegExp(input.query, input.caseSensitive) : undefined;
    const needle = input.caseSensitive ? input.query : input.query.toLowerCase();
    await walk(root, start, {
      skip,
      visit: ({ name, path }) => {
        if (isGitName(name)) return true;
        const hit = wanted
          ? wanted.test(name)
          : (input.caseSensitive ? name : name.toLowerCase()).includes(needle);
        if (!hit) return true;
        if (matches.length >= input.maxResults) {
          truncated = true;
          return false;
        }
        matches.push({ path });
        return true;
      },
    });
    return { matches, truncated };
  }

  let pattern: RegExp | undefined;
  if (input.regex) {
    try {
      pattern = new RegExp(input.query, input.caseSensitive ? "" : "i");
    } catch (err) {
      throw new KilnError("search_pattern_invalid", `invalid regular expression: ${(err as Error).message}`);
    }
  }
  const needle = input.caseSensitive ? input.query : input.query.toLowerCase();
  const texts: Array<{ path: string; text: string }> = [];
  let scanned = 0;
  await walk(root, start, {
    skip,
    visit: async ({ name, path, stat, parent }) => {
      if (!stat.isFile() || stat.size > limits.maxFileBytes || isGitName(name)) return true;
      if (scanned + stat.size > limits.maxScanBytes) {
        truncated = true;
        return false;
      }
      scanned += stat.size;
      let text: string | undefined;
      try {
        const handle = await openFileForRead(parent, name, path);
        try {
          text = asText(await handle.readFile());
        } finally {
          await handle.close();
        }
      } catch {
        return true; // changed under us (removed, swapped for a link): skip it
      }
      if (text === undefined) return true;
      if (pattern) {
        texts.push({ path, text });
        return true;
      }
      const lines = text.split("\n");
      for (let i = 0; i < lines.length; i++) {
        const line = lines[i]!;
        if (!(input.caseSensitive ? line : line.toLowerCase()).includes(needle)) continue;
        if (matches.length >= input.maxResults) {
          truncated = true;
          return false;
        }
        matches.push({ path, line: i + 1, text: line.slice(0, MAX_LINE_CHARS) });
      }
      return true;
    },
  });
  if (!pattern) return { matches, truncated };
  const found = await runRegex(pattern, texts, input.maxResults, limits.regexTimeoutMs);
  return { matches: found.matches, truncated: truncated || found.truncated };
}

function runRegex(
  pattern: RegExp,
  files: Array<{ path: string; text: string }>,
  maxResults: number,
  timeoutMs: number,
): Promise<{ matches: SearchMatch[]; truncated: boolean }> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL("./regex-worker.ts", import.meta.url), {
      workerData: {
        source: pattern.source,
        flags: pattern.flags,
        files,
        maxResults,
        maxLineChars: MAX_LINE_CHARS,
      },
      resourceLimits: { maxOldGenerationSizeMb: 256 },
    });
    const timer = setTimeout(() => {
      void worker.terminate();
      reject(new KilnError("search_timeout", `regular expression search took longer than ${timeoutMs} ms`));
    }, timeoutMs);
    worker.once("message", (result) => {
      clearTimeout(timer);
      void worker.terminate();
      resolve(result);
    });
    // Out of memory (resourceLimits) or a crash: the caller's pattern or input was too much, like a timeout.
    worker.once("error", (err) => {
      clearTimeout(timer);
      reject(new KilnError("search_timeout", `regular expression search failed: ${err.message}`));
    });
  });
}
