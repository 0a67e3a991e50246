import { z } from "zod";
import { defineTool } from "../tool.ts";

export const grepTool = defineTool({
  name: "grep",
  description:
    "Search file contents with a JavaScript regular expression. Returns `path:line: text` for each matching line. " +
    "Skips .git, node_modules, binary files and files over 1 MB.",
  input: z.object({
    pattern: z
      .string()
      .min(1)
      .max(1000)
      .describe("Regular expression (JavaScript syntax), e.g. useState\\(|TODO"),
    path: z
      .string()
      .optional()
      .describe("File or directory to search, relative to the project root (default the root)"),
    glob: z
      .string()
      .max(500)
      .optional()
      .describe("Only files whose path matches this glob, e.g. *.tsx or src/**/*.ts"),
    ignore_case: z.boolean().optional().describe("Case-insensitive search (default false)"),
    limit: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .optional()
      .describe("Most matching lines to return (default 100)"),
  }),
  mutates: false,
  async execute(input, ctx) {
    const limit = input.limit ?? 100;
    const { matches, truncated } = await ctx.workspace.grep(input.pattern, {
      path: input.path,
      glob: input.glob,
      ignoreCase: input.ignore_case ?? false,
      limit,
    });
    if (matches.length === 0)
      return { output: `No matches for /${input.pattern}/.`, metadata: { matches: [] } };
    const lines = matches.map((m) => `${m.path}:${m.line}: ${m.text}`);
    if (truncated) lines.push(`(stopped at ${limit} matches; narrow the search or raise limit)`);
    return { output: lines.join("\n"), metadata: { count: matches.length, truncated } };
  },
});
