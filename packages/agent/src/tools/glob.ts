import { z } from "zod";
import { globToRegExp } from "../glob.ts";
import { defineTool } from "../tool.ts";

const SCAN_LIMIT = 20_000;
const MAX_RESULTS = 1000;

export const globTool = defineTool({
  name: "glob",
  description:
    "Find files by name pattern: `*` within a name, `**` across directories, `?`, `{a,b}`, `[abc]`. " +
    "A pattern without '/' matches file names at any depth (`*.tsx`); with '/' it matches the path (`src/**/*.test.ts`).",
  input: z.object({
    pattern: z.string().min(1).max(500).describe("Glob pattern, e.g. src/**/*.tsx or *.css"),
    path: z
      .string()
      .optional()
      .describe("Directory to search in, relative to the project root (default the root)"),
  }),
  mutates: false,
  async execute(input, ctx) {
    const base = (input.path ?? "").replace(/^\.$|^\.\//, "").replace(/\/+$/, "");
    const regex = globToRegExp(input.pattern.replace(/^\.\//, ""));
    const { entries, truncated } = await ctx.workspace.list(base, { recursive: true, limit: SCAN_LIMIT });
    const matches: string[] = [];
    for (const entry of entries) {
      if (entry.type === "directory") continue;
      const relative =
        base && entry.path.startsWith(`${base}/`) ? entry.path.slice(base.length + 1) : entry.path;
      if (regex.test(relative)) matches.push(entry.path);
    }
    const shown = matches.slice(0, MAX_RESULTS);
    const notes: string[] = [];
    if (matches.length > MAX_RESULTS)
      notes.push(`(${matches.length - MAX_RESULTS} more not shown; use a narrower pattern)`);
    if (truncated)
      notes.push(`(only the first ${SCAN_LIMIT} entries were scanned; pass a subdirectory as path)`);
    if (shown.length === 0)
      return { output: [`No files match ${input.pattern}.`, ...notes].join("\n"), metadata: { matches: [] } };
    return { output: [...shown, ...notes].join("\n"), metadata: { matches: shown, total: matches.length } };
  },
});
